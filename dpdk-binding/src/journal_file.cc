// See journal_file.h for the threading contract.
#include "journal_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace tickpath {
namespace {

std::string parentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

int fail(std::string* err, const std::string& what, int e) {
  *err = what + ": " + strerror(e);
  return -e;
}

// crc32 (IEEE 802.3, reflected, as journal.ts's crc32), slicing-by-8: the copier seals ring records
// with it, ~1 cycle a byte, so the router does not spend ~45 ns of table lookups per record.
struct Crc32Tables {
  uint32_t t[8][256];
  Crc32Tables() {
    for (uint32_t n = 0; n < 256; n++) {
      uint32_t c = n;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[0][n] = c;
    }
    for (int k = 1; k < 8; k++)
      for (uint32_t n = 0; n < 256; n++) t[k][n] = t[0][t[k - 1][n] & 0xff] ^ (t[k - 1][n] >> 8);
  }
};

const Crc32Tables& crcTables() {
  static const Crc32Tables tables;
  return tables;
}

uint32_t crc32(const uint8_t* p, size_t n) {
  const auto& t = crcTables().t;
  uint32_t c = ~0u;
  while (n >= 8) {
    uint32_t a, b;
    memcpy(&a, p, 4);
    memcpy(&b, p + 4, 4);
    a ^= c;   // little-endian host (journal.ts refuses others)
    c = t[7][a & 0xff] ^ t[6][(a >> 8) & 0xff] ^ t[5][(a >> 16) & 0xff] ^ t[4][a >> 24] ^
        t[3][b & 0xff] ^ t[2][(b >> 8) & 0xff] ^ t[1][(b >> 16) & 0xff] ^ t[0][b >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

}  // namespace

int JournalFile::open(const JournalFileOptions& o, std::unique_ptr<JournalFile>* out, std::string* err) {
  if (o.slotBytes == 0 || o.capacitySlots < 2 || o.growSlots == 0) return fail(err, "journal: bad geometry", EINVAL);
  std::unique_ptr<JournalFile> j(new JournalFile());
  j->o_ = o;
  // O_EXCL first: only the process that creates the file makes its directory entry durable.
  j->fd_ = ::open(o.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (j->fd_ >= 0) {
    j->created_ = true;
  } else if (errno == EEXIST) {
    j->fd_ = ::open(o.path.c_str(), O_RDWR | O_CLOEXEC);
  }
  if (j->fd_ < 0) return fail(err, "cannot open " + o.path, errno);
  if (j->created_) {
    // Without this a power loss can forget the file itself, whatever is fsynced into it later.
    std::string dir = parentDir(o.path);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return fail(err, "cannot open directory " + dir, errno);
    int rc = ::fsync(dfd);
    int e = errno;
    ::close(dfd);
    if (rc != 0) return fail(err, "cannot fsync directory " + dir, e);
  }
  struct stat st;
  if (fstat(j->fd_, &st) != 0) return fail(err, "cannot stat " + o.path, errno);
  j->mapBytes_ = static_cast<size_t>(o.capacitySlots) * o.slotBytes;
  if (static_cast<uint64_t>(st.st_size) > j->mapBytes_) {
    return fail(err, o.path + " is larger than the journal capacity (" + std::to_string(j->mapBytes_) + " bytes)", EFBIG);
  }
  j->fileBytes_ = static_cast<uint64_t>(st.st_size);

  // Reserve the whole capacity once: the mapping never moves, so JS views of it stay valid.
  void* p = mmap(nullptr, j->mapBytes_, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd_, 0);
  if (p == MAP_FAILED) return fail(err, "cannot map " + o.path, errno);
  size_t len = j->mapBytes_;
  j->map_ = std::shared_ptr<void>(p, [len](void* m) { munmap(m, len); });
  void* c = std::aligned_alloc(64, kJournalControlBytes);
  if (!c) return fail(err, "journal control block", ENOMEM);
  memset(c, 0, kJournalControlBytes);
  j->control_ = std::shared_ptr<void>(c, [](void* m) { std::free(m); });

  uint64_t first = static_cast<uint64_t>(o.growSlots) * o.slotBytes;
  if (first > j->mapBytes_) first = j->mapBytes_;
  {
    std::lock_guard<std::mutex> g(j->growMutex_);
    // Round a partial last slot up too: JS treats it as a torn tail.
    uint64_t want = ((j->fileBytes_ + o.slotBytes - 1) / o.slotBytes) * o.slotBytes;
    if (want < first) want = first;
    int rc = j->growTo(want, err);
    if (rc < 0) return rc;
    // growTo publishes the size only when it grows the file: a reopened file already past the first
    // chunk would otherwise read as 0 slots, so JS would grow for every record and never zero a
    // torn tail (its clear-out is bounded by this word).
    j->ctl(kJournalFileSlotsI32).store(static_cast<int32_t>(j->fileBytes_ / o.slotBytes), std::memory_order_release);
  }
  j->tickClock();
  j->prefault(0);
  j->thread_ = std::thread([raw = j.get()] { raw->run(); });
  *out = std::move(j);
  return 0;
}

JournalFile::~JournalFile() {
  std::string ignored;
  if (fd_ >= 0) close(0, false, &ignored);
}

// Caller holds growMutex_.
int JournalFile::growTo(uint64_t bytes, std::string* err) {
  if (bytes <= fileBytes_) return 0;
  if (bytes > mapBytes_) bytes = mapBytes_;
  // fallocate reserves the blocks now, so a full disk is an error here rather than a SIGBUS when
  // the router's store faults a page in.
  if (fallocate(fd_, 0, 0, static_cast<off_t>(bytes)) != 0) {
    if (errno != EOPNOTSUPP) return fail(err, "cannot grow " + o_.path, errno);
    if (ftruncate(fd_, static_cast<off_t>(bytes)) != 0) return fail(err, "cannot grow " + o_.path, errno);
  }
  fileBytes_ = bytes;
  ctl(kJournalFileSlotsI32).store(static_cast<int32_t>(bytes / o_.slotBytes), std::memory_order_release);
  return 0;
}

int JournalFile::ensure(uint32_t slots, std::string* err) {
  std::lock_guard<std::mutex> g(growMutex_);
  if (fd_ < 0) return fail(err, o_.path + " is closed", EBADF);
  uint64_t need = static_cast<uint64_t>(slots) * o_.slotBytes;
  if (need > mapBytes_) {
    return fail(err, o_.path + " is full (" + std::to_string(o_.capacitySlots - 1) + " records)", ENOSPC);
  }
  uint64_t chunk = static_cast<uint64_t>(o_.growSlots) * o_.slotBytes;
  uint64_t target = fileBytes_;
  while (target < need) target += chunk;
  return growTo(target, err);
}

// Caller holds syncMutex_. The written position is read before the sync, so what is published as
// durable was in the page cache when fdatasync started. With a ring, what is durable is what was
// copied into the file before the sync: the ring is copied first, under copyMutex_.
int JournalFile::syncLocked(std::string* err) {
  int32_t w = ctl(kJournalWrittenI32).load(std::memory_order_acquire);
  {
    std::lock_guard<std::mutex> g(copyMutex_);
    if (ringSlots_ != 0) {
      int rc = copyLocked(w, err);
      if (rc < 0) return rc;
      w = ctl(kJournalCopiedI32).load(std::memory_order_relaxed);
    }
  }
  if (fdatasync(fd_) != 0) return fail(err, "fdatasync " + o_.path, errno);
  ctl(kJournalDurableI32).store(w, std::memory_order_release);
  return 0;
}

// Caller holds copyMutex_. pwrite rather than stores into the file mapping: the page cache work
// (and any wait for a running jbd2 commit) happens here, on the copier's thread, not the router's.
// Copies slots [copied, upTo) and publishes copied = upTo once they are all in the file.
int JournalFile::copyLocked(int32_t upTo, std::string* err) {
  if (ringSlots_ == 0 || copyHeld_.load(std::memory_order_acquire)) return 0;
  int32_t c = ctl(kJournalCopiedI32).load(std::memory_order_relaxed);
  const uint32_t mask = ringSlots_ - 1;
  while (c < upTo) {
    uint32_t idx = static_cast<uint32_t>(c) & mask;
    uint32_t n = std::min<uint32_t>(static_cast<uint32_t>(upTo - c), ringSlots_ - idx);
    uint8_t* src = ring() + kJournalRingHeaderBytes + static_cast<size_t>(idx) * o_.slotBytes;
    size_t len = static_cast<size_t>(n) * o_.slotBytes;
    // Seal each record: the router leaves the crc word to the copier (its record number, stored
    // last, is what makes a ring slot a record). The router does not touch these slots again
    // until the copied position below is published.
    for (uint32_t k = 0; k < n; k++) {
      uint8_t* rec = src + static_cast<size_t>(k) * o_.slotBytes;
      uint32_t crc = crc32(rec + 4, o_.slotBytes - 4);
      memcpy(rec, &crc, 4);
    }
    off_t at = static_cast<off_t>(c) * o_.slotBytes;
    while (len > 0) {
      ssize_t done = pwrite(fd_, src, len, at);
      if (done < 0) {
        if (errno == EINTR) continue;
        return fail(err, "cannot copy the journal ring into " + o_.path, errno);
      }
      src += done;
      len -= static_cast<size_t>(done);
      at += done;
    }
    c += static_cast<int32_t>(n);
  }
  ctl(kJournalCopiedI32).store(c, std::memory_order_release);
  return 0;
}

int JournalFile::attachRing(const std::string& ringPath, uint32_t ringSlots, uint32_t firstSlot, std::string* err) {
  if (ringSlots < 16 || (ringSlots & (ringSlots - 1)) != 0) return fail(err, "journal ring: slots must be a power of two >= 16", EINVAL);
  std::lock_guard<std::mutex> g(copyMutex_);
  if (fd_ < 0) return fail(err, o_.path + " is closed", EBADF);
  if (ringSlots_ != 0) return fail(err, "journal ring: already attached", EBUSY);
  int rfd = ::open(ringPath.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (rfd < 0) return fail(err, "cannot create the journal ring " + ringPath, errno);
  size_t bytes = kJournalRingHeaderBytes + static_cast<size_t>(ringSlots) * o_.slotBytes;
  if (ftruncate(rfd, static_cast<off_t>(bytes)) != 0) {
    int e = errno;
    ::close(rfd);
    return fail(err, "cannot size the journal ring " + ringPath, e);
  }
  // Not populated here (a few ms for 6 MiB, on every open): the commit thread populates it at its
  // next wake-up, so the router's first pass over the ring takes no page faults either.
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
  int e = errno;
  ::close(rfd);
  if (p == MAP_FAILED) return fail(err, "cannot map the journal ring " + ringPath, e);
  ring_ = std::shared_ptr<void>(p, [bytes](void* m) { munmap(m, bytes); });
  ringBytes_ = bytes;
  ringPath_ = ringPath;
  ctl(kJournalCopiedI32).store(static_cast<int32_t>(firstSlot), std::memory_order_release);
  ringSlots_ = ringSlots;
  ringPopulated_ = false;
  return 0;
}

// Caller holds copyMutex_. Makes the ring's pages present and writable in this process's page
// tables (tmpfs: allocated once, never write-protected by writeback afterwards).
void JournalFile::populateRingLocked() {
  ringPopulated_ = true;
  uint8_t* base = ring();
#ifdef MADV_POPULATE_WRITE
  if (madvise(base, ringBytes_, MADV_POPULATE_WRITE) == 0) return;
#endif
  // The router may be storing into the ring meanwhile: a locked add of zero keeps its value.
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (size_t off = 0; off < ringBytes_; off += page) {
    reinterpret_cast<std::atomic<uint32_t>*>(base + off)->fetch_add(0, std::memory_order_relaxed);
  }
}

int JournalFile::drainRing(std::string* err) {
  std::lock_guard<std::mutex> g(copyMutex_);
  if (fd_ < 0) return fail(err, o_.path + " is closed", EBADF);
  return copyLocked(ctl(kJournalWrittenI32).load(std::memory_order_acquire), err);
}

int JournalFile::detachRing(std::string* err) {
  std::lock_guard<std::mutex> g(copyMutex_);
  if (ringSlots_ == 0) return 0;
  if (fd_ < 0) return fail(err, o_.path + " is closed", EBADF);
  copyHeld_.store(false, std::memory_order_release);
  int rc = copyLocked(ctl(kJournalWrittenI32).load(std::memory_order_acquire), err);
  if (rc < 0) return rc;
  ringSlots_ = 0;
  ::unlink(ringPath_.c_str());
  return 0;
}

int JournalFile::sync(std::string* err) {
  std::lock_guard<std::mutex> g(syncMutex_);
  if (fd_ < 0) return fail(err, o_.path + " is closed", EBADF);
  return syncLocked(err);
}

void JournalFile::tickClock() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  double ms = static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec / 1000000);
  uint64_t bits;
  memcpy(&bits, &ms, sizeof bits);
  // One aligned 8-byte store: the router's Float64Array read sees the old or the new value, whole.
  reinterpret_cast<std::atomic<uint64_t>*>(static_cast<uint8_t*>(control_.get()) + kJournalClockF64 * 8)
      ->store(bits, std::memory_order_relaxed);
}

// Makes [page of the written position, + prefaultBytes) present and writable in this process's
// page tables, so the router's next stores there do not fault. Only inside the allocated file.
void JournalFile::prefault(int32_t writtenSlots) {
  if (o_.prefaultBytes == 0) return;
  static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  uint64_t end;
  {
    std::lock_guard<std::mutex> g(growMutex_);
    end = fileBytes_;
  }
  // The window follows the write rate: four periods' worth of the recent peak per period (which
  // decays by 1/64 per period, so a burst after a quiet spell still finds pages ready), at least a
  // page, at most prefaultBytes. Its zero pages are written back by the next sync, so a slow
  // writer must not drag a large window through every fdatasync.
  uint64_t pos = static_cast<uint64_t>(writtenSlots) * o_.slotBytes;
  uint64_t rate = pos > lastPrefaultPos_ ? pos - lastPrefaultPos_ : 0;
  lastPrefaultPos_ = pos;
  peakRate_ = std::max(rate, peakRate_ - peakRate_ / 64);
  uint64_t window = std::min<uint64_t>(o_.prefaultBytes, std::max<uint64_t>(page, 4 * peakRate_));
  uint64_t from = pos & ~(page - 1);
  uint64_t to = from + window + page;
  if (to > end) to = end & ~(page - 1);
  if (to <= from) return;
  uint8_t* base = map() + from;
  size_t len = static_cast<size_t>(to - from);
#ifdef MADV_POPULATE_WRITE
  if (!populateUnsupported_) {
    if (madvise(base, len, MADV_POPULATE_WRITE) == 0) {
      ctl(kJournalPrefaultedI32).store(static_cast<int32_t>(to / page), std::memory_order_relaxed);
      return;
    }
    if (errno != EINVAL) return;   // EINTR, EFAULT on a racing truncate at close: next period
    populateUnsupported_ = true;   // kernel before 5.14
  }
#endif
  // Fallback: one atomic add of zero per page. The router may be storing into the first page at
  // the same moment; a locked read-modify-write of 0 keeps whichever value it wrote.
  for (size_t off = 0; off < len; off += page) {
    reinterpret_cast<std::atomic<uint32_t>*>(base + off)->fetch_add(0, std::memory_order_relaxed);
  }
  ctl(kJournalPrefaultedI32).store(static_cast<int32_t>(to / page), std::memory_order_relaxed);
}

void JournalFile::run() {
  // The clock and the pre-faulted window need a wake-up at least every millisecond under every
  // policy; 'group' wakes at its commit period when that is shorter.
  const auto period = std::chrono::microseconds(o_.groupCommit ? std::min<int64_t>(o_.groupCommitUs, 1000) : 1000);
  int64_t sinceCommitUs = 0;
  const uint64_t half = static_cast<uint64_t>(o_.growSlots / 2 + 1) * o_.slotBytes;
  std::unique_lock<std::mutex> lk(wakeMutex_);
  while (!stop_) {
    wake_.wait_for(lk, period);
    if (stop_) break;
    lk.unlock();
    std::string err;
    int32_t w = ctl(kJournalWrittenI32).load(std::memory_order_acquire);
    int rc = 0;
    {
      std::lock_guard<std::mutex> g(growMutex_);
      uint64_t need = static_cast<uint64_t>(w) * o_.slotBytes + half;
      if (need > fileBytes_ && fileBytes_ < mapBytes_) {
        uint64_t target = fileBytes_;
        while (target < need) target += static_cast<uint64_t>(o_.growSlots) * o_.slotBytes;
        rc = growTo(target, &err);
      }
    }
    bool ringOn = false;
    if (rc == 0) {
      std::lock_guard<std::mutex> g(copyMutex_);
      ringOn = ringSlots_ != 0;
      if (ringOn && !ringPopulated_) populateRingLocked();
      if (ringOn) rc = copyLocked(w, &err);
    }
    tickClock();
    sinceCommitUs += period.count();
    if (rc == 0 && o_.groupCommit && sinceCommitUs >= o_.groupCommitUs && w > ctl(kJournalDurableI32).load(std::memory_order_relaxed)) {
      sinceCommitUs = 0;
      std::lock_guard<std::mutex> g(syncMutex_);
      rc = syncLocked(&err);
      if (rc == 0) ctl(kJournalSyncsI32).fetch_add(1, std::memory_order_relaxed);
    }
    // After the sync: it left the written pages clean and write-protected again.
    // (Not with a ring: the router does not store into the file mapping then.)
    if (rc == 0 && !ringOn) prefault(ctl(kJournalWrittenI32).load(std::memory_order_acquire));
    if (rc < 0) {
      // Reported once; the router reads it before its next record and stops accepting orders.
      int32_t none = 0;
      ctl(kJournalErrnoI32).compare_exchange_strong(none, -rc);
    }
    lk.lock();
  }
}

int JournalFile::close(uint32_t keepSlots, bool syncFirst, std::string* err) {
  {
    std::lock_guard<std::mutex> g(wakeMutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (fd_ < 0) return 0;
  int rc = 0;
  {
    // Everything the router wrote reaches the file before it is trimmed, held or not.
    std::lock_guard<std::mutex> g(copyMutex_);
    copyHeld_.store(false, std::memory_order_release);
    rc = copyLocked(ctl(kJournalWrittenI32).load(std::memory_order_acquire), err);
  }
  if (syncFirst && rc == 0) rc = sync(err);
  {
    std::lock_guard<std::mutex> g(growMutex_);
    if (keepSlots > 0 && ftruncate(fd_, static_cast<off_t>(keepSlots) * o_.slotBytes) != 0 && rc == 0) {
      rc = fail(err, "cannot trim " + o_.path, errno);
    }
    if (keepSlots > 0 && syncFirst && rc == 0 && fdatasync(fd_) != 0) rc = fail(err, "fdatasync " + o_.path, errno);
    ::close(fd_);
    fd_ = -1;
  }
  {
    std::lock_guard<std::mutex> g(copyMutex_);
    // Copied (and synced unless 'never'): the ring holds nothing the file lacks.
    if (ringSlots_ != 0 && rc == 0) ::unlink(ringPath_.c_str());
    ringSlots_ = 0;
  }
  return rc;
}

}  // namespace tickpath
