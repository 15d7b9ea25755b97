// The order journal's few native calls (journal_file.h), kept beside glue.cc rather than in it so
// the journal and the packet path change independently; glue.cc calls exportJournalFns once.
// Like ports, a journal is an integer id, so whichever worker thread runs the router can use it.
//
// Threading contract: the id registry is guarded by journalsMutex(), and only for as long as it
// takes to read or change a slot; no file I/O happens under it (an open fsyncs a directory, a close
// joins the commit thread and fdatasyncs), so one journal's sync never waits on another's open or
// close. One journal has one owner thread at a time (the router's): it alone syncs, drains, grows
// and closes it, so a pointer looked up under the lock stays valid for the owner's call after the
// lock is released (only the owner's own close frees it). Within a journal, journal_file.h's
// mutexes order the owner against its commit thread.
#include <nan.h>

#include <array>
#include <atomic>
#include <mutex>

#include "journal_file.h"

namespace tickpath {
namespace {

constexpr int kMaxJournals = 256;
// Leaked on purpose: no static destructor may run against a journal whose commit thread is live
// when the process exits (its records are in the page cache either way).
std::mutex& journalsMutex() { static auto* m = new std::mutex(); return *m; }
std::array<JournalFile*, kMaxJournals>& journals() {
  static auto* a = new std::array<JournalFile*, kMaxJournals>();
  return *a;
}

void throwErrno(int rc, const std::string& msg) {
  v8::Local<v8::Value> e = Nan::Error(msg.c_str());
  Nan::Set(e.As<v8::Object>(), Nan::New("errno").ToLocalChecked(), Nan::New(-rc));
  Nan::ThrowError(e);
}

v8::Local<v8::Value> sharedBuffer(void* base, size_t len, const std::shared_ptr<void>& owner) {
  auto* keep = new std::shared_ptr<void>(owner);
  auto store = v8::SharedArrayBuffer::NewBackingStore(
      base, len, [](void*, size_t, void* data) { delete static_cast<std::shared_ptr<void>*>(data); }, keep);
  return v8::SharedArrayBuffer::New(v8::Isolate::GetCurrent(), std::move(store));
}

// A slot taken by an open still in progress: no journal yet, and no other open may take it. The
// address of a tag, never dereferenced.
char openingTag;
JournalFile* const kOpening = reinterpret_cast<JournalFile*>(&openingTag);

// The journal whose id is info[0], looked up under the registry lock (released on return); throws
// and returns null when no journal with that id is open. See the threading contract above.
JournalFile* journalArg(const Nan::FunctionCallbackInfo<v8::Value>& info) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  JournalFile* j = nullptr;
  {
    std::lock_guard<std::mutex> g(journalsMutex());
    if (id >= 0 && id < kMaxJournals && journals()[id] != kOpening) j = journals()[id];
  }
  if (!j) Nan::ThrowRangeError("no open journal with that id");
  return j;
}

// journalOpen(path, slotBytes, capacitySlots, growSlots, groupCommitUs, groupCommit[, prefaultBytes])
//   -> { id, created, map: SharedArrayBuffer, control: SharedArrayBuffer }
NAN_METHOD(JournalOpen) {
  JournalFileOptions o;
  o.path = *Nan::Utf8String(info[0]);
  o.slotBytes = Nan::To<uint32_t>(info[1]).FromMaybe(0);
  o.capacitySlots = Nan::To<uint32_t>(info[2]).FromMaybe(0);
  o.growSlots = Nan::To<uint32_t>(info[3]).FromMaybe(0);
  o.groupCommitUs = static_cast<int64_t>(Nan::To<double>(info[4]).FromMaybe(1000));
  o.groupCommit = Nan::To<bool>(info[5]).FromMaybe(false);
  if (info.Length() > 6) o.prefaultBytes = Nan::To<uint32_t>(info[6]).FromMaybe(o.prefaultBytes);
  // Reserve an id, open outside the lock, then publish (or free the id on failure).
  int id = 0;
  {
    std::lock_guard<std::mutex> g(journalsMutex());
    while (id < kMaxJournals && journals()[id]) id++;
    if (id == kMaxJournals) return throwErrno(-EMFILE, "too many open journals");
    journals()[id] = kOpening;
  }
  std::unique_ptr<JournalFile> j;
  std::string err;
  int rc = JournalFile::open(o, &j, &err);
  if (rc < 0) {
    std::lock_guard<std::mutex> g(journalsMutex());
    journals()[id] = nullptr;
    return throwErrno(rc, err);
  }
  auto out = Nan::New<v8::Object>();
  Nan::Set(out, Nan::New("id").ToLocalChecked(), Nan::New(id));
  Nan::Set(out, Nan::New("created").ToLocalChecked(), Nan::New(j->created()));
  Nan::Set(out, Nan::New("map").ToLocalChecked(), sharedBuffer(j->map(), j->mapBytes(), j->mapOwner()));
  Nan::Set(out, Nan::New("control").ToLocalChecked(),
           sharedBuffer(j->controlOwner().get(), kJournalControlBytes, j->controlOwner()));
  {
    std::lock_guard<std::mutex> g(journalsMutex());
    journals()[id] = j.release();
  }
  info.GetReturnValue().Set(out);
}

NAN_METHOD(JournalEnsure) {
  JournalFile* j = journalArg(info);
  if (!j) return;
  std::string err;
  int rc = j->ensure(Nan::To<uint32_t>(info[1]).FromMaybe(0), &err);
  if (rc < 0) throwErrno(rc, err);
}

// journalSync(id): the 'always' policy, once per order on the router's thread. The registry lock is
// held for the lookup only (tens of ns uncontended, never across another journal's I/O).
NAN_METHOD(JournalSync) {
  JournalFile* j = journalArg(info);
  if (!j) return;
  std::string err;
  int rc = j->sync(&err);
  if (rc < 0) throwErrno(rc, err);
}

// journalAttachRing(id, ringPath, ringSlots, firstSlot) -> SharedArrayBuffer over the ring file
NAN_METHOD(JournalAttachRing) {
  JournalFile* j = journalArg(info);
  if (!j) return;
  std::string err;
  int rc = j->attachRing(*Nan::Utf8String(info[1]), Nan::To<uint32_t>(info[2]).FromMaybe(0),
                         Nan::To<uint32_t>(info[3]).FromMaybe(0), &err);
  if (rc < 0) return throwErrno(rc, err);
  info.GetReturnValue().Set(sharedBuffer(j->ring(), j->ringBytes(), j->ringOwner()));
}

// journalDrainRing(id): the router's rare branch when its ring is full (lookup as sync).
NAN_METHOD(JournalDrainRing) {
  JournalFile* j = journalArg(info);
  if (!j) return;
  std::string err;
  int rc = j->drainRing(&err);
  if (rc < 0) throwErrno(rc, err);
}

NAN_METHOD(JournalDetachRing) {
  JournalFile* j = journalArg(info);
  if (!j) return;
  std::string err;
  int rc = j->detachRing(&err);
  if (rc < 0) throwErrno(rc, err);
}

NAN_METHOD(JournalHoldCopy) {
  JournalFile* j = journalArg(info);
  if (!j) return;
  j->holdCopy(Nan::To<bool>(info[1]).FromMaybe(false));
}

// journalClose(id, keepSlots, sync): stops the commit thread, syncs, trims, frees the id.
NAN_METHOD(JournalClose) {
  // Out of the registry first (a later lookup fails cleanly), then closed outside the lock.
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  JournalFile* j = nullptr;
  {
    std::lock_guard<std::mutex> g(journalsMutex());
    if (id >= 0 && id < kMaxJournals && journals()[id] != kOpening) std::swap(j, journals()[id]);
  }
  if (!j) return Nan::ThrowRangeError("no open journal with that id");
  std::string err;
  int rc = j->close(Nan::To<uint32_t>(info[1]).FromMaybe(0), Nan::To<bool>(info[2]).FromMaybe(true), &err);
  delete j;
  if (rc < 0) throwErrno(rc, err);
}

void exportFn(v8::Local<v8::Object> target, const char* name, Nan::FunctionCallback fn) {
  Nan::Set(target, Nan::New(name).ToLocalChecked(), Nan::GetFunction(Nan::New<v8::FunctionTemplate>(fn)).ToLocalChecked());
}

}  // namespace

void exportJournalFns(v8::Local<v8::Object> target) {
  exportFn(target, "journalOpen", JournalOpen);
  exportFn(target, "journalEnsure", JournalEnsure);
  exportFn(target, "journalSync", JournalSync);
  exportFn(target, "journalClose", JournalClose);
  exportFn(target, "journalAttachRing", JournalAttachRing);
  exportFn(target, "journalDrainRing", JournalDrainRing);
  exportFn(target, "journalDetachRing", JournalDetachRing);
  exportFn(target, "journalHoldCopy", JournalHoldCopy);
  auto layout = Nan::New<v8::Object>();
  auto set = [&](const char* k, double v) { Nan::Set(layout, Nan::New(k).ToLocalChecked(), Nan::New(v)); };
  set("writtenI32", kJournalWrittenI32);
  set("durableI32", kJournalDurableI32);
  set("fileSlotsI32", kJournalFileSlotsI32);
  set("syncsI32", kJournalSyncsI32);
  set("errnoI32", kJournalErrnoI32);
  set("clockF64", kJournalClockF64);
  set("prefaultedI32", kJournalPrefaultedI32);
  set("copiedI32", kJournalCopiedI32);
  set("controlBytes", kJournalControlBytes);
  set("ringHeaderBytes", static_cast<double>(kJournalRingHeaderBytes));
  set("ringSealsCrc", static_cast<double>(kJournalRingSealsCrc));
  Nan::Set(target, Nan::New("journalLayout").ToLocalChecked(), layout);
}

}  // namespace tickpath
