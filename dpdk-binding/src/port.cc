#include "port.h"

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
  idle_ = optString(opts, "idle", "spin");
  uint32_t ringSize = static_cast<uint32_t>(std::clamp<long long>(optInt(opts, "ring_size", 4096), 64, 1 << 22));
  uint32_t txSlots = static_cast<uint32_t>(std::clamp<long long>(optInt(opts, "tx_slots", 1024), 16, 1 << 20));
  uint32_t txSlotBytes = static_cast<uint32_t>(std::clamp<long long>(optInt(opts, "tx_slot_bytes", 2048), 64, 65536));
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
  c[0].store(s.ctr.rxPackets, std::memory_order_relaxed);
  c[1].store(s.ctr.rxBytes, std::memory_order_relaxed);
  c[2].store(s.ctr.ringFullDrops, std::memory_order_relaxed);
  c[3].store(s.ctr.truncated, std::memory_order_relaxed);
  c[4].store(s.ctr.txPackets, std::memory_order_relaxed);
  c[5].store(s.ctr.txFailed, std::memory_order_relaxed);
  c[6].store(s.ctr.txBytes, std::memory_order_relaxed);
}

uint32_t Port::poll(uint16_t q) {
  if (__builtin_expect(!backend_ || q >= nq_, 0)) return 0;
  QueueState& s = *qs_[q];
  releaseConsumed(s);
  uint32_t work = 0;

  // RX: into the ring, or, when the consumer has fallen behind, drained and dropped here so the
  // device queue keeps moving and the loss is counted where it happened.
  uint32_t freeSlots = s.rx.capacity - (s.prod - s.released);
  if (__builtin_expect(freeSlots == 0, 0)) {
    if (holds_) return work;  // a file waits for the consumer; nothing is lost
    uint16_t n = backend_->rxBurst(q, s.scratch.data(), s.scratchHandles.data(), burst_);
    if (n) {
      backend_->release(q, s.scratchHandles.data(), n);
      s.ctr.ringFullDrops += n;
      publishCounters(s);
    }
  } else {
    uint32_t idx = s.prod & s.rx.mask;
    uint32_t max = std::min<uint32_t>({freeSlots, burst_, s.rx.capacity - idx});
    auto* descs = reinterpret_cast<RxDesc*>(static_cast<uint8_t*>(s.rx.mem) + kRingHeaderBytes);
    uint16_t n = backend_->rxBurst(q, descs + idx, &s.handles[idx], static_cast<uint16_t>(max));
    if (n) {
      for (uint16_t i = 0; i < n; i++) {
        s.ctr.rxBytes += descs[idx + i].len;
        if (descs[idx + i].flags & kRxFlagTruncated) s.ctr.truncated++;
      }
      s.ctr.rxPackets += n;
      s.prod += n;
      pos(s.rx.mem, kProdPosI32)->store(s.prod, std::memory_order_release);
      publishCounters(s);
      work += n;
    } else if (__builtin_expect(backend_->rxDone(q), 0)) {
      pos(s.rx.mem, kEofI32)->store(1, std::memory_order_release);
    }
  }

  // TX: descriptors the JS producer posted since last time, as one burst.
  uint32_t txProd = pos(s.tx.mem, kProdPosI32)->load(std::memory_order_acquire);
  if (txProd != s.txCons) {
    uint32_t avail = std::min<uint32_t>(txProd - s.txCons, burst_);
    const auto* td = reinterpret_cast<const uint32_t*>(static_cast<uint8_t*>(s.tx.mem) + kRingHeaderBytes);
    const auto* slots = static_cast<const uint8_t*>(s.txSlots.base);
    uint16_t nf = 0;
    for (uint32_t i = 0; i < avail; i++) {
      uint32_t idx = (s.txCons + i) & s.tx.mask;
      uint32_t slot = td[idx * kTxDescWords] & s.tx.mask;
      uint32_t len = std::min(td[idx * kTxDescWords + 1], s.txSlotBytes);
      s.txFrames[nf++] = TxFrame{slots + static_cast<size_t>(slot) * s.txSlotBytes, len};
    }
    uint16_t sent = backend_->txBurst(q, s.txFrames.data(), nf);
    for (uint16_t i = 0; i < sent; i++) s.ctr.txBytes += s.txFrames[i].len;
    s.ctr.txPackets += sent;
    s.txCons += sent;
    pos(s.tx.mem, kConsPosI32)->store(s.txCons, std::memory_order_release);
    publishCounters(s);
    work += sent;
  }
  return work;
}

int Port::pollerMain(void* arg) {
  auto* s = static_cast<QueueState*>(arg);
  Port* p = s->port;
  if (s->cpu >= 0 && !s->lcoreLaunched) pinThread(s->cpu, nullptr);
  pos(s->rx.mem, kStateI32)->store(1, std::memory_order_release);
  uint32_t idleRounds = 0;
  const bool spin = p->idle_ == "spin", yield = p->idle_ == "yield";
  while (!p->stopRequested_.load(std::memory_order_relaxed)) {
    if (p->poll(s->q)) {
      idleRounds = 0;
      continue;
    }
    // Idle strategy: spin (lowest latency, burns the core), yield, or back off to a short sleep.
    if (spin) {
      __builtin_ia32_pause();
    } else if (yield || ++idleRounds < 100) {
      sched_yield();
    } else {
      struct timespec ts = {0, 20000};
      nanosleep(&ts, nullptr);
    }
  }
  pos(s->rx.mem, kStateI32)->store(2, std::memory_order_release);
  return 0;
}

int Port::start(std::string* err) {
  if (!backend_) return fail(err, EBADF, "port is closed");
  if (running_.load()) return 0;
  stopRequested_.store(false);
  if (!inline_) {
    for (auto& s : qs_) {
      // Set before launching: pollerMain reads it to know the EAL already placed this thread.
      s->lcoreLaunched = true;
      s->lcoreLaunched = backend_->launchPoller(s->q, &Port::pollerMain, s.get(), err);
      if (!s->lcoreLaunched) {
        if (!err->empty()) {
          stop();
          return -EBUSY;
        }
        s->thread = std::thread([st = s.get()] { pollerMain(st); });
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

void Port::counters(uint16_t q, QueueCounters* out) const {
  if (q < qs_.size()) *out = qs_[q]->ctr;
}

}  // namespace tickpath
