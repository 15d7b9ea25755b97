// The order journal's file: created with its directory entry made durable, grown ahead of the
// writer in whole chunks, mapped MAP_SHARED once at open so the router writes records straight
// into the page cache (no syscall per record), and made durable either by the caller (`sync`, the
// 'always' policy) or by a group-commit thread that fdatasyncs whatever the router has published
// at most every `groupCommitUs` ('group'). No V8 here: journal_glue.cc exposes it to JS.
//
// Threading contract:
//  - the control block's written position has one writer, the router (JS, Atomics.store), and is
//    read by the commit thread once per wake-up;
//  - the durable position, sync count and error are written by whoever syncs (the commit thread,
//    or the router through sync()), serialised by syncMutex_;
//  - file growth is serialised by growMutex_: the commit thread grows ahead, the router calls
//    ensure() only if it ever catches up with the allocated end (rare branch).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace tickpath {

// Int32 indices into the control block; each field on its own 64-byte line (one writer per line).
// Positions count slots (slot 0 is the header, record N is in slot N), so an Int32 covers 2^31 *
// slotBytes of journal without BigInt in JS.
constexpr int kJournalWrittenI32 = 0;     // slots holding published records (router)
constexpr int kJournalDurableI32 = 16;    // slots known durable (whoever synced last)
constexpr int kJournalFileSlotsI32 = 32;  // slots allocated in the file (grower)
constexpr int kJournalSyncsI32 = 48;      // fdatasyncs done by the commit thread
constexpr int kJournalErrnoI32 = 49;      // first errno the commit thread hit (0 = none)
constexpr int kJournalControlBytes = 256;

struct JournalFileOptions {
  std::string path;
  uint32_t slotBytes = 96;
  uint32_t capacitySlots = 0;   // size of the mapping: the journal can never hold more
  uint32_t growSlots = 0;       // allocation chunk; growth starts when less than half is left
  int64_t groupCommitUs = 1000; // commit thread period ('group'); growth-only wake-ups otherwise
  bool groupCommit = false;     // the commit thread fdatasyncs (policy 'group')
};

class JournalFile {
 public:
  // Opens or creates the file, fsyncs the parent directory when it was created, allocates the
  // first chunk, maps it and starts the commit thread. 0 or a negative errno with *err set.
  static int open(const JournalFileOptions& o, std::unique_ptr<JournalFile>* out, std::string* err);
  ~JournalFile();

  uint8_t* map() const { return static_cast<uint8_t*>(map_.get()); }
  size_t mapBytes() const { return mapBytes_; }
  const std::shared_ptr<void>& mapOwner() const { return map_; }
  const std::shared_ptr<void>& controlOwner() const { return control_; }
  bool created() const { return created_; }
  uint64_t fileBytes() const { return fileBytes_; }

  // Makes the file at least `slots` long (the router caught up with the commit thread's growth).
  int ensure(uint32_t slots, std::string* err);
  // fdatasync now and publish the written position as durable ('always', close, header).
  int sync(std::string* err);
  // Stops and joins the commit thread, syncs unless `syncFirst` is false, cuts the file to
  // `keepSlots` (0 = leave its length) and closes the descriptor. The mapping lives on until JS
  // drops its buffer; JS must not touch it after close (pages past the new end raise SIGBUS).
  int close(uint32_t keepSlots, bool syncFirst, std::string* err);
  bool isOpen() const { return fd_ >= 0; }

 private:
  JournalFile() = default;
  std::atomic<int32_t>& ctl(int i) const { return reinterpret_cast<std::atomic<int32_t>*>(control_.get())[i]; }
  int growTo(uint64_t bytes, std::string* err);
  int syncLocked(std::string* err);
  void run();

  JournalFileOptions o_;
  int fd_ = -1;
  bool created_ = false;
  uint64_t fileBytes_ = 0;
  size_t mapBytes_ = 0;
  std::shared_ptr<void> map_;
  std::shared_ptr<void> control_;
  std::mutex growMutex_;
  std::mutex syncMutex_;
  std::mutex wakeMutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tickpath
