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
//    ensure() only if it ever catches up with the allocated end (rare branch);
//  - the clock line has one writer, the commit thread; the router reads it once per record;
//  - the commit thread also pre-faults the pages just ahead of the written position, writable
//    (MADV_POPULATE_WRITE), after every wake-up: a first store into a page of a MAP_SHARED ext4
//    file is a page fault that starts a jbd2 handle, and during a group commit's fdatasync it
//    waits for that commit. After each fdatasync the written pages are clean and write-protected
//    again, so the window is re-populated every period. Cost: the window's zero pages are dirty
//    and written back by the next fdatasync: the window is four periods of the recent peak write rate,
//    at most prefaultBytes.
//  - with a ring (attachRing), the router writes records into a small MAP_SHARED file on tmpfs
//    (/dev/shm) instead of the journal file: record N at byte kJournalRingHeaderBytes +
//    (N & (ringSlots - 1)) * slotBytes, after a page of header (written by JS: the journal it
//    belongs to, its owner's pid), populated by the commit thread's first wake-up. A tmpfs page is never write-protected by writeback, so
//    the router's stores take no fault after the first pass, and a `kill -9` still loses nothing:
//    the record is in the page cache before the wire. The copier (the commit thread every wake-up,
//    or whoever syncs, or the router itself when the ring is full: copyMutex_) pwrites records
//    [copied, written) to the journal file and then publishes the copied position; the router
//    never writes a ring slot below copied + ringSlots. The copier seals each record on the way:
//    crc32 of bytes 4..slotBytes into bytes 0..3 (the router stores the record number last
//    instead, which is what marks a ring slot as a record; kJournalRingSealsCrc). Restart recovery (journal.ts) copies a
//    killed router's uncopied tail from the ring into the file before reading it.
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
// The journal's clock: CLOCK_REALTIME in ms (a double, 8-byte aligned at byte 256), stored by the
// commit thread at open and on every wake-up, read by the router for each record's time field
// instead of a clock call per record. At most one period (plus scheduling delay) old.
constexpr int kJournalClockF64 = 32;      // Float64 index (byte 256)
constexpr int kJournalPrefaultedI32 = 80; // bytes of the file made writable ahead by the commit thread (byte 320)
constexpr int kJournalCopiedI32 = 96;     // slots copied from the ring into the file (copier; byte 384)
constexpr int kJournalControlBytes = 448;
// The ring file's header page (journal.ts writes it); records follow it.
constexpr size_t kJournalRingHeaderBytes = 4096;
// Ring records are sealed (crc32 at bytes 0..3) by the copier, not by the router: journal.ts
// checks this is 1 so a build whose addon does not seal refuses to open rather than write
// records without a crc into the file.
constexpr int kJournalRingSealsCrc = 1;

struct JournalFileOptions {
  std::string path;
  uint32_t slotBytes = 96;
  uint32_t capacitySlots = 0;   // size of the mapping: the journal can never hold more
  uint32_t growSlots = 0;       // allocation chunk; growth starts when less than half is left
  int64_t groupCommitUs = 1000; // commit thread period ('group'); growth-only wake-ups otherwise
  bool groupCommit = false;     // the commit thread fdatasyncs (policy 'group')
  uint32_t prefaultBytes = 1024 * 1024;  // largest window made writable ahead of the writer (0: off)
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
  // Creates (truncating) the ring file at `ringPath`, ringSlots + 1 slots, mapped MAP_SHARED and
  // populated; from now on records [copied, written) live in the ring until copied. `firstSlot` is
  // the next record's slot (the copied position to start from).
  int attachRing(const std::string& ringPath, uint32_t ringSlots, uint32_t firstSlot, std::string* err);
  // Copies whatever the router has published from the ring to the file (no fdatasync).
  int drainRing(std::string* err);
  // Copies the ring out, stops using it and removes its file: the router writes straight into the
  // file mapping from now on (a journal streamed to a standby sends from that mapping).
  int detachRing(std::string* err);
  // Tests and drills: while held, nobody copies the ring to the file (a sync fails with EAGAIN
  // rather than publish what the file does not hold), so the ring holds records the file lacks.
  void holdCopy(bool held) { copyHeld_.store(held, std::memory_order_release); }
  uint8_t* ring() const { return static_cast<uint8_t*>(ring_.get()); }
  size_t ringBytes() const { return ringBytes_; }
  const std::shared_ptr<void>& ringOwner() const { return ring_; }
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
  void tickClock();
  void prefault(int32_t writtenSlots);
  int copyLocked(int32_t upTo, std::string* err);
  void populateRingLocked();

  JournalFileOptions o_;
  int fd_ = -1;
  bool created_ = false;
  uint64_t fileBytes_ = 0;
  size_t mapBytes_ = 0;
  std::shared_ptr<void> map_;
  std::shared_ptr<void> control_;
  std::mutex growMutex_;
  std::mutex syncMutex_;
  std::mutex copyMutex_;                 // the ring copier; lock order: syncMutex_, then copyMutex_
  std::shared_ptr<void> ring_;
  size_t ringBytes_ = 0;
  uint32_t ringSlots_ = 0;               // 0: no ring, records go straight into the file mapping
  bool ringPopulated_ = false;           // the commit thread made the ring's pages present (copyMutex_)
  std::string ringPath_;
  std::atomic<bool> copyHeld_{false};
  std::mutex wakeMutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool populateUnsupported_ = false;
  uint64_t lastPrefaultPos_ = 0;   // written bytes at the last prefault (commit thread only)
  uint64_t peakRate_ = 0;          // decaying peak of bytes written per period (commit thread only)
  std::thread thread_;
};

}  // namespace tickpath
