// Transparent huge pages for this process's anonymous memory, without the system-wide setting:
// madvise(MADV_HUGEPAGE) over every private anonymous mapping of at least `minBytes` (the V8 heap's
// reservations and pages, the large typed-array and SharedArrayBuffer backing stores the books and
// the order path use, malloc arenas), and optionally MADV_COLLAPSE, which turns what is already
// faulted in into huge pages now rather than whenever khugepaged gets to it. Why: an order that
// comes after 20 ms of market data finds its TLB entries gone and pays a page walk (under a
// hypervisor, a two-level one) for each of the dozens of 4 KiB pages it touches; with
// `transparent_hugepage/enabled` set to `always` the bundled run's md_to_order p50 was ~8-10 %
// lower. The kernel default here is `madvise`, which honours exactly this advice.
//
// Threading contract: any thread (adviseHugePagesAsync: a libuv pool thread, the result on the
// caller's event loop); it reads /proc/self/maps and advises ranges, nothing else. The
// mappings it advises may be unmapped or split by other threads meanwhile: madvise then fails with
// ENOMEM for that range, which is counted, not fatal.
#include <nan.h>

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

namespace tickpath {
namespace {

constexpr uintptr_t kHugeBytes = 2u << 20;

void setNum(v8::Local<v8::Object> o, const char* k, double v) {
  Nan::Set(o, Nan::New(k).ToLocalChecked(), Nan::New(v));
}

struct Advice {
  double regions = 0, bytes = 0, collapsed = 0, failed = 0, firstErrno = 0;
  int openErrno = 0;  // errno of opening /proc/self/maps, 0 when it opened
};

// The scan and the madvise calls, touching no V8 state: run on the caller's thread (the sync
// function) or on a libuv pool thread (the async one).
Advice adviseRanges(uintptr_t minBytes, bool collapse) {
  Advice r;
  FILE* f = fopen("/proc/self/maps", "re");
  if (f == nullptr) {
    r.openErrno = errno;
    return r;
  }
  char line[512];
  while (fgets(line, sizeof line, f) != nullptr) {
    unsigned long lo = 0, hi = 0, off = 0, inode = 0;
    char perms[8] = {0}, dev[16] = {0};
    int pathAt = 0;
    if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &lo, &hi, perms, &off, dev, &inode, &pathAt) < 6) continue;
    // Private anonymous only: no file (inode 0), not the stack, vdso or vvar.
    if (perms[3] != 'p' || inode != 0) continue;
    const char* name = pathAt > 0 ? line + pathAt : "";
    if (name[0] != '\n' && name[0] != '\0' && strncmp(name, "[heap]", 6) != 0 && strncmp(name, "[anon:", 6) != 0) continue;
    uintptr_t a = (static_cast<uintptr_t>(lo) + kHugeBytes - 1) & ~(kHugeBytes - 1);
    uintptr_t b = static_cast<uintptr_t>(hi) & ~(kHugeBytes - 1);
    if (hi - lo < minBytes || b <= a) continue;
    if (madvise(reinterpret_cast<void*>(a), b - a, MADV_HUGEPAGE) != 0) {
      if (r.failed++ == 0) r.firstErrno = errno;
      continue;
    }
    r.regions++;
    r.bytes += static_cast<double>(b - a);
    // Only mappings that hold memory now (readable): a PROT_NONE reservation has nothing to collapse.
    if (collapse && perms[0] == 'r') {
      for (uintptr_t p = a; p < b; p += kHugeBytes) {
        if (madvise(reinterpret_cast<void*>(p), kHugeBytes, MADV_COLLAPSE) == 0) r.collapsed += kHugeBytes;
      }
    }
  }
  fclose(f);
  return r;
}

v8::Local<v8::Object> adviceObject(const Advice& r) {
  auto out = Nan::New<v8::Object>();
  setNum(out, "regions", r.regions);
  setNum(out, "bytes", r.bytes);
  setNum(out, "collapsed", r.collapsed);
  setNum(out, "failed", r.failed);
  setNum(out, "errno", r.firstErrno);
  return out;
}

uintptr_t minBytesArg(Nan::NAN_METHOD_ARGS_TYPE info) {
  double minD = info.Length() > 0 && info[0]->IsNumber() ? Nan::To<double>(info[0]).FromJust() : static_cast<double>(kHugeBytes);
  return minD < static_cast<double>(kHugeBytes) ? kHugeBytes : static_cast<uintptr_t>(minD);
}

// adviseHugePages(minBytes: number, collapse: boolean): { regions, bytes, collapsed, failed, errno }
// regions/bytes: the 2 MiB-aligned parts advised; collapsed: bytes MADV_COLLAPSE made huge; failed:
// madvise calls that failed (errno: the first failure's).
NAN_METHOD(AdviseHugePages) {
  bool collapse = info.Length() > 1 && Nan::To<bool>(info[1]).FromJust();
  Advice r = adviseRanges(minBytesArg(info), collapse);
  if (r.openErrno != 0) return Nan::ThrowError(Nan::ErrnoException(r.openErrno, "adviseHugePages", "cannot read /proc/self/maps"));
  info.GetReturnValue().Set(adviceObject(r));
}

// The same on a libuv pool thread: a collapse copies up to a few hundred MB (0.1-0.6 s on a quiet
// machine, seconds under load), and on the main thread it stalled everything the event loop serves
// meanwhile (the bundled run's venue simulators, a FIX logon, the book mailbox).
class AdviseWorker : public Nan::AsyncWorker {
 public:
  AdviseWorker(Nan::Callback* cb, uintptr_t minBytes, bool collapse)
      : Nan::AsyncWorker(cb, "tickpath:adviseHugePages"), minBytes_(minBytes), collapse_(collapse) {}
  void Execute() override {
    r_ = adviseRanges(minBytes_, collapse_);
    if (r_.openErrno != 0) SetErrorMessage(("cannot read /proc/self/maps: " + std::string(strerror(r_.openErrno))).c_str());
  }
  void HandleOKCallback() override {
    Nan::HandleScope scope;
    v8::Local<v8::Value> argv[] = {Nan::Null(), adviceObject(r_)};
    callback->Call(2, argv, async_resource);
  }

 private:
  uintptr_t minBytes_;
  bool collapse_;
  Advice r_;
};

// adviseHugePagesAsync(minBytes, collapse, callback(err, result)).
NAN_METHOD(AdviseHugePagesAsync) {
  bool collapse = info.Length() > 1 && Nan::To<bool>(info[1]).FromJust();
  if (info.Length() < 3 || !info[2]->IsFunction()) return Nan::ThrowTypeError("adviseHugePagesAsync: a callback is required");
  Nan::AsyncQueueWorker(new AdviseWorker(new Nan::Callback(info[2].As<v8::Function>()), minBytesArg(info), collapse));
}

}  // namespace

void exportHugePageFns(v8::Local<v8::Object> target) {
  Nan::Set(target, Nan::New("adviseHugePages").ToLocalChecked(),
           Nan::GetFunction(Nan::New<v8::FunctionTemplate>(AdviseHugePages)).ToLocalChecked());
  Nan::Set(target, Nan::New("adviseHugePagesAsync").ToLocalChecked(),
           Nan::GetFunction(Nan::New<v8::FunctionTemplate>(AdviseHugePagesAsync)).ToLocalChecked());
}

}  // namespace tickpath
