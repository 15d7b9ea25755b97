#include "port.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "platform.h"

namespace tickpath {

namespace {

inline std::atomic<uint32_t>* pos(void* ringMem, uint32_t i32) {
  return reinterpret_cast<std::atomic<uint32_t>*>(static_cast<uint32_t*>(ringMem) + i32);
}

uint32_t roundPow2(uint32_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

int makeRing(Ring* r, uint32_t capacity, uint32_t descBytes, uint16_t q, std::string* err) {
  r->capacity = roundPow2(capacity);
  r->mask = r->capacity - 1;
  r->bytes = kRingHeaderBytes + static_cast<size_t>(r->capacity) * descBytes;
  r->owner = mapShared(r->bytes, false, &r->mem, err);
  if (!r->owner) return -ENOMEM;
  auto* w = static_cast<uint32_t*>(r->mem);
  w[kCapacityI32] = r->capacity;
  w[kMaskI32] = r->mask;
  w[kDescBytesI32] = descBytes;
  w[kQueueI32] = q;
  return 0;
}

}  // namespace

std::shared_ptr<void> mapShared(size_t bytes, bool tryHuge, void** out, std::string* err) {
  void* p = MAP_FAILED;
  size_t len = bytes;
  if (tryHuge) {
    size_t huge = (bytes + (2u << 20) - 1) & ~((2ul << 20) - 1);
    p = mmap(nullptr, huge, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (p != MAP_FAILED) len = huge;
  }
  if (p == MAP_FAILED) {
    len = (bytes + 4095) & ~size_t(4095);
    p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  }
  if (p == MAP_FAILED) {
    *err = std::string("mmap of ") + std::to_string(bytes) + " bytes failed: " + strerror(errno);
    return nullptr;
  }
  *out = p;
  return std::shared_ptr<void>(p, [len](void* m) { munmap(m, len); });
}

Port::~Port() { close(); }

int Port::open(const std::string& name, const Options& opts, std::string* err) {
  const BackendInfo* info = nullptr;
  for (const auto& b : backendRegistry())
    if (name == b.name) info = &b;
  if (!info) return fail(err, EINVAL, "unknown backend '" + name + "'");
  if (!info->compiledIn)
    return fail(err, ENOTSUP,
                "backend '" + name + "' is not compiled in (fix: " + info->missing + ")");
  name_ = name;
  backend_ = info->create();
  int rc = backend_->open(opts, err);
  if (rc < 0) {
    backend_->close();
    backend_.reset();
    return rc;
  }
  nq_ = backend_->rxQueues();
  regions_ = backend_->regions();
  holds_ = backend_->holdsWhenFull();
  burst_ = static_cast<uint16_t>(std::clamp<long long>(optInt(opts, "burst", 32), 1, 512));
  inline_ = optString(opts, "poller", "thread") == "inline";
  // Idle strategy: lib/binding validated the values; here they are only parsed.
  std::string idle = optString(opts, "idle", "spin");
  idle_.kind = idle == "backoff" ? IdleStrategy::kBackoff : idle == "yield" ? IdleStrategy::kYield : IdleStrategy::kSpin;
  idle_.maxSpins = static_cast<uint32_t>(std::clamp<long long>(optInt(opts, "idle_max_spins", 100), 0, 1000000));
  idle_.maxYields = static_cast<uint32_t>(std::clamp<long long>(optInt(opts, "idle_max_yields", 10), 0, 1000000));
  idle_.minParkNs = static_cast<uint64_t>(std::clamp<long long>(optInt(opts, "idle_min_park_ns", 1000), 1, 1000000000));
  idle_.maxParkNs = static_cast<uint64_t>(std::clamp<long long>(optInt(opts, "idle_max_park_ns", 1000000), 1, 1000000000));
  if (idle_.maxParkNs < idle_.minParkNs) idle_.maxParkNs = idle_.minParkNs;
  uint32_t ringSize = static_cast<uint32_t>(std::clamp<long long>(optInt(opts, "ring_size", 4096), 64, 1 << 22));
  uint32_t txSlots = static_cast<uint32_t>(std::clamp<long long>(optInt(opts, "tx_slots", 1024), 16, 1 << 20));
  uint32_t txSlotBytes = static_cast<uint32_t>(std::clamp<long long>(optInt(opts, "tx_slot_bytes", 2048), 64, 65536));
  txMaxLen_ = std::min(txSlotBytes, backend_->txMaxFrame());
  std::vector<int> cpus = parseCpuList(optString(opts, "rx_cpus", optString(opts, "rx_cpu", "")));
  for (uint16_t q = 0; q < nq_; q++) {
    auto s = std::make_unique<QueueState>();
    s->port = this;
    s->q = q;
    if ((rc = makeRing(&s->rx, ringSize, sizeof(RxDesc), q, err)) < 0) return rc;
    if ((rc = makeRing(&s->tx, txSlots, kTxDescWords * 4, q, err)) < 0) return rc;
    static_cast<uint32_t*>(s->tx.mem)[kTxSlotBytesI32] = txSlotBytes;
    s->txSlotBytes = txSlotBytes;
    void* slots = nullptr;
    size_t slotBytes = static_cast<size_t>(s->tx.capacity) * txSlotBytes;
    auto owner = mapShared(slotBytes, false, &slots, err);
    if (!owner) return -ENOMEM;
    s->txSlots = Region{slots, slotBytes, true, owner};
    s->handles.assign(s->rx.capacity, 0);
    s->scratch.resize(burst_);
    s->scratchHandles.resize(burst_);
    s->txFrames.resize(burst_);
    s->cpu = cpus.empty() ? -1 : cpus[q % cpus.size()];
    qs_.push_back(std::move(s));
  }
  return 0;
}

void Port::releaseConsumed(QueueState& s) {
  uint32_t cons = pos(s.rx.mem, kConsPosI32)->load(std::memory_order_acquire);
  while (s.released != cons) {
    uint32_t idx = s.released & s.rx.mask;
    uint32_t n = std::min<uint32_t>(cons - s.released, s.rx.capacity - idx);
    n = std::min<uint32_t>(n, 0xffff);
    backend_->release(s.q, &s.handles[idx], static_cast<uint16_t>(n));
    s.released += n;
  }
}

void Port::publishCounters(QueueState& s) {
  auto* c = reinterpret_cast<std::atomic<uint64_t>*>(static_cast<uint8_t*>(s.rx.mem) + kCountersByte);
  for (uint32_t i = 0; i < kQueueCounterCount; i++) c[i].store(s.ctr[i], std::memory_order_relaxed);
}

uint32_t Port::poll(uint16_t q) {
  if (__builtin_expect(!backend_ || q >= nq_, 0)) return 0;
  QueueState& s = *qs_[q];
  // The consumer's position line was last written by the consumer's core, and the producer's line
  // was last read by it: both cost a cross-core transfer per burst. Asked for now, they arrive while
  // the device fills the burst; the consumer's position is then read after the burst (releasing
  // first only when the ring has no room for one), so the RX lcore does not stall on it.
  __builtin_prefetch(pos(s.rx.mem, kConsPosI32), 0, 3);
  __builtin_prefetch(pos(s.rx.mem, kProdPosI32), 1, 3);
  if (s.rx.capacity - (s.prod - s.released) < burst_) releaseConsumed(s);
  uint32_t work = 0;

  // RX: into the ring, or, when the consumer has fallen behind, drained and dropped here so the
  // device queue keeps moving and the loss is counted where it happened.
  uint32_t freeSlots = s.rx.capacity - (s.prod - s.released);
  if (__builtin_expect(freeSlots == 0, 0)) {
    // A file waits for the consumer (nothing is lost); TX below is serviced either way.
    uint16_t n = holds_ ? 0 : backend_->rxBurst(q, s.scratch.data(), s.scratchHandles.data(), burst_);
    if (n) {
      backend_->release(q, s.scratchHandles.data(), n);
      s.ctr[kCtrRingFullDrops] += n;
      publishCounters(s);
      work += n;  // draining is work: an idle strategy must not park while the device overflows
    }
  } else {
    uint32_t idx = s.prod & s.rx.mask;
    uint32_t max = std::min<uint32_t>({freeSlots, burst_, s.rx.capacity - idx});
    auto* descs = reinterpret_cast<RxDesc*>(static_cast<uint8_t*>(s.rx.mem) + kRingHeaderBytes);
    uint16_t n = backend_->rxBurst(q, descs + idx, &s.handles[idx], static_cast<uint16_t>(max));
    if (n) {
      uint64_t bytes = 0;
      uint32_t truncated = 0;
      if (!backend_->lastRxTally(q, &bytes, &truncated)) {
        for (uint16_t i = 0; i < n; i++) {
          bytes += descs[idx + i].len;
          truncated += (descs[idx + i].flags & kRxFlagTruncated) != 0;
        }
      }
      s.ctr[kCtrRxBytes] += bytes;
      s.ctr[kCtrTruncated] += truncated;
      s.ctr[kCtrRxPackets] += n;
      s.prod += n;
      pos(s.rx.mem, kProdPosI32)->store(s.prod, std::memory_order_release);
      publishCounters(s);
      work += n;
    } else if (__builtin_expect(backend_->rxDone(q), 0)) {
      pos(s.rx.mem, kEofI32)->store(1, std::memory_order_release);
    }
  }

  releaseConsumed(s);
  pollTx(s, &work);
  return work;
}

uint32_t Port::pollFor(uint16_t q, uint32_t want) {
  uint32_t work = poll(q);
  if (q >= nq_ || !backend_) return work;
  const QueueState& s = *qs_[q];
  // Bounded: at most one ring's worth of turns, whatever the device does.
  for (uint32_t turns = s.rx.capacity / burst_; work && turns && s.prod - s.released < want; turns--) {
    uint32_t w = poll(q);
    if (!w) break;
    work += w;
  }
  return work;
}

// TX: the descriptors the JS producer posted since last time, at most one burst. The backend
// consumes from the front (backend.h); frames it could never send are consumed here and counted, so
// every posted frame ends up in exactly one of txPackets, txOversize, txFailed, and none is offered
// to the device twice.
void Port::pollTx(QueueState& s, uint32_t* work) {
  uint32_t txProd = pos(s.tx.mem, kProdPosI32)->load(std::memory_order_acquire);
  if (txProd == s.txCons) return;
  uint32_t budget = std::min<uint32_t>(txProd - s.txCons, burst_);
  const auto* td = reinterpret_cast<const uint32_t*>(static_cast<uint8_t*>(s.tx.mem) + kRingHeaderBytes);
  const auto* slots = static_cast<const uint8_t*>(s.txSlots.base);
  const uint32_t before = s.txCons;
  while (budget) {
    // The run of sendable frames at the front, up to the first one that is too long.
    uint16_t nf = 0;
    while (nf < budget) {
      uint32_t idx = (s.txCons + nf) & s.tx.mask;
      uint32_t len = td[idx * kTxDescWords + 1];
      if (__builtin_expect(len > txMaxLen_, 0)) break;
      uint32_t slot = td[idx * kTxDescWords] & s.tx.mask;
      s.txFrames[nf++] = TxFrame{slots + static_cast<size_t>(slot) * s.txSlotBytes, len};
    }
    if (__builtin_expect(nf == 0, 0)) {  // the front frame is too long: consumed and counted
      s.ctr[kCtrTxOversize]++;
      s.txCons++;
      budget--;
      continue;
    }
    int rc = backend_->txBurst(s.q, s.txFrames.data(), nf);
    if (__builtin_expect(rc < 0, 0)) {  // the device refused the front frame for good
      s.ctr[kCtrTxFailed]++;
      s.txCons++;
      budget--;
      continue;
    }
    for (int i = 0; i < rc; i++) s.ctr[kCtrTxBytes] += s.txFrames[i].len;
    s.ctr[kCtrTxPackets] += static_cast<uint32_t>(rc);
    s.txCons += static_cast<uint32_t>(rc);
    budget -= static_cast<uint32_t>(rc);
    if (rc < nf) break;  // the device is full: the rest waits for the next poll
  }
  if (s.txCons != before) {
    pos(s.tx.mem, kConsPosI32)->store(s.txCons, std::memory_order_release);
    publishCounters(s);
    *work += s.txCons - before;
  }
}

void IdleStrategy::idle(uint32_t work) {
  if (work) {
    spins_ = yields_ = 0;
    parkNs_ = minParkNs;
    return;
  }
  uint64_t park = 0;
  switch (kind) {
    case kSpin:
      __builtin_ia32_pause();
      return;
    case kYield:
      park = minParkNs;
      break;
    case kBackoff:
      if (spins_ < maxSpins) {
        spins_++;
        __builtin_ia32_pause();
        return;
      }
      if (yields_ < maxYields) {
        yields_++;
        park = minParkNs;
        break;
      }
      if (parkNs_ < minParkNs) parkNs_ = minParkNs;
      park = parkNs_;
      parkNs_ = std::min(parkNs_ * 2, maxParkNs);
      break;
  }
  struct timespec ts = {static_cast<time_t>(park / 1000000000ull), static_cast<long>(park % 1000000000ull)};
  nanosleep(&ts, nullptr);
}

int Port::pollerMain(void* arg) {
  auto* s = static_cast<QueueState*>(arg);
  Port* p = s->port;
  IdleStrategy idle = p->idle_;  // the thread's own copy: it keeps back-off state
  pos(s->rx.mem, kStateI32)->store(1, std::memory_order_release);
  while (!p->stopRequested_.load(std::memory_order_relaxed)) idle.idle(p->poll(s->q));
  pos(s->rx.mem, kStateI32)->store(2, std::memory_order_release);
  return 0;
}

int Port::start(std::string* err) {
  if (!backend_) return fail(err, EBADF, "port is closed");
  if (running_.load()) return 0;
  stopRequested_.store(false);
  if (!inline_) {
    for (auto& s : qs_) {
      int rc = backend_->launchPoller(s->q, &Port::pollerMain, s.get(), err);
      if (rc < 0) {
        stop();
        return rc;
      }
      s->lcoreLaunched = rc > 0;
      if (!s->lcoreLaunched) {
        // The backend did not place it: our own thread, named for `top -H` and /proc (tp-poll-q<N>),
        // pinned before its first poll.
        s->thread = std::thread([st = s.get()] {
          std::string name = "tp-poll-q" + std::to_string(st->q);
          pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
          if (st->cpu >= 0) pinThread(st->cpu, nullptr);
          pollerMain(st);
        });
        s->threadStarted = true;
      }
    }
  }
  running_.store(true, std::memory_order_release);
  return 0;
}

void Port::stop() {
  stopRequested_.store(true);
  for (auto& s : qs_) {
    if (s->threadStarted) {
      s->thread.join();
      s->threadStarted = false;
    }
    if (s->lcoreLaunched) {
      backend_->joinPoller(s->q);
      s->lcoreLaunched = false;
    }
  }
  running_.store(false, std::memory_order_release);
}

void Port::close() {
  if (!backend_) return;
  stop();
  // Hand every buffer the consumer still held back to the backend before it closes, so its pool
  // accounting (dpdk: mempool free count) is whole again.
  for (auto& s : qs_) {
    while (s->released != s->prod) {
      uint32_t idx = s->released & s->rx.mask;
      uint32_t n = std::min<uint32_t>({s->prod - s->released, s->rx.capacity - idx, 0xffffu});
      backend_->release(s->q, &s->handles[idx], static_cast<uint16_t>(n));
      s->released += n;
    }
    pos(s->rx.mem, kConsPosI32)->store(s->prod, std::memory_order_release);
    pos(s->rx.mem, kStateI32)->store(2, std::memory_order_release);
  }
  backend_->close();
  backend_->deviceStats(&lastDeviceStats_);
  backend_.reset();
  // Drop our references to the packet memory: it is freed as soon as no JS view holds it.
  regions_.clear();
}

void Port::counters(uint16_t q, uint64_t* out) const {
  if (q >= qs_.size()) return;
  const auto* c = reinterpret_cast<const std::atomic<uint64_t>*>(static_cast<const uint8_t*>(qs_[q]->rx.mem) + kCountersByte);
  for (uint32_t i = 0; i < kQueueCounterCount; i++) out[i] = c[i].load(std::memory_order_relaxed);
}

}  // namespace tickpath
