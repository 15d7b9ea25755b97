// A Port is one opened backend plus, per queue, the shared-memory RX and TX rings JavaScript sees,
// and the poller that moves packets between the backend and those rings.
//
// Poller modes:
//  - "thread": one poller per queue on its own thread (an EAL lcore for dpdk, else a std::thread
//    pinned to options "rx_cpu" / "rx_cpus"), looping idle(poll()) with the configured idle
//    strategy (options "idle", "idle_max_spins", "idle_max_yields", "idle_min_park_ns",
//    "idle_max_park_ns": the same spin / yield / backoff as lib/common/idle-strategy.ts);
//  - "inline": no thread; the consuming JS worker calls poll(q) itself (the 2-core layout).
// Either way exactly one thread runs poll(q) for a given q: that is what makes the rings SPSC.
//
// Counters: the poller keeps them privately and publishes them on the RX ring's counters line
// (ring_layout.h, QueueCounter) with relaxed stores; every reader, JS or counters(), reads that line,
// so no thread ever reads the poller's private copy.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"

namespace tickpath {

// What a poller thread does after a poll that found no work; mirrors lib/common/idle-strategy.ts
// (spin: never sleeps; yield: parks minParkNs every empty turn; backoff: maxSpins spins, then
// maxYields parks of minParkNs, then parks doubling up to maxParkNs). Owned by one poller thread.
struct IdleStrategy {
  enum Kind { kSpin, kYield, kBackoff } kind = kSpin;
  uint32_t maxSpins = 100, maxYields = 10;
  uint64_t minParkNs = 1000, maxParkNs = 1000000;

  void idle(uint32_t work);

 private:
  uint32_t spins_ = 0, yields_ = 0;
  uint64_t parkNs_ = 0;
};

struct Ring {
  void* mem = nullptr;  // header + descriptors
  size_t bytes = 0;
  std::shared_ptr<void> owner;
  uint32_t capacity = 0;
  uint32_t mask = 0;
};

class Port {
 public:
  Port() = default;
  ~Port();

  int open(const std::string& backend, const Options& opts, std::string* err);
  int start(std::string* err);  // thread mode: launch pollers; inline mode: no-op
  void stop();                  // joins pollers; rings and memory stay mapped
  void close();                 // stop + backend close; memory lives until JS views are gone

  // One poller iteration on queue q: release what the consumer finished, receive a burst into the
  // ring (or drop it at the ring when full), send pending TX. Returns the work done: packets put on
  // or dropped at the RX ring plus TX frames consumed; 0 tells the idle strategy to wait.
  uint32_t poll(uint16_t q);
  // Inline mode: poll(q) again while each turn finds work and fewer than `want` packets wait on the
  // RX ring, so one call from JavaScript (a boundary crossing of about 100 ns) brings a consumer's
  // whole read limit, not one burst. Returns the work summed; want <= burst is one poll.
  uint32_t pollFor(uint16_t q, uint32_t want);

  uint16_t queues() const { return nq_; }
  const std::vector<Region>& regions() const { return regions_; }
  const Ring& rxRing(uint16_t q) const { return qs_[q]->rx; }
  const Ring& txRing(uint16_t q) const { return qs_[q]->tx; }
  const Region& txSlots(uint16_t q) const { return qs_[q]->txSlots; }
  bool running() const { return running_.load(std::memory_order_acquire); }
  const std::string& backendName() const { return name_; }
  std::string describe() const { return backend_ ? backend_->describe() : std::string("closed"); }
  // The queue's counters as last published on its ring (any thread); out has kQueueCounterCount.
  void counters(uint16_t q, uint64_t* out) const;
  void deviceStats(DeviceStats* out) {
    if (backend_) backend_->deviceStats(out);
    else *out = lastDeviceStats_;
  }
  bool inlineMode() const { return inline_; }

 private:
  struct alignas(64) QueueState {
    Port* port;
    uint16_t q;
    Ring rx;
    Ring tx;
    Region txSlots;
    uint32_t txSlotBytes = 0;
    std::vector<uintptr_t> handles;        // parallel to rx descriptors: what release() needs
    std::vector<RxDesc> scratch;           // ring-full drain target
    std::vector<uintptr_t> scratchHandles;
    std::vector<TxFrame> txFrames;
    uint32_t released = 0;  // rx slots already handed back to the backend (poller-private)
    uint32_t prod = 0;      // poller-private copy of the published producer position
    uint32_t txCons = 0;    // poller-private TX consumer position
    uint64_t ctr[kQueueCounterCount] = {};  // poller-private; published by publishCounters()
    // Owner thread only (start/stop): the poller never reads these, so launching cannot race them.
    std::thread thread;
    bool threadStarted = false;
    bool lcoreLaunched = false;
    int cpu = -1;  // std::thread pollers pin themselves here before their first poll
  };

  static int pollerMain(void* arg);
  void pollTx(QueueState& s, uint32_t* work);
  void releaseConsumed(QueueState& s);
  void publishCounters(QueueState& s);

  std::string name_;
  std::unique_ptr<Backend> backend_;
  DeviceStats lastDeviceStats_{};  // taken at close(): stats stay readable afterwards
  std::vector<Region> regions_;  // copied at open: views outlive close() through Region::owner
  std::vector<std::unique_ptr<QueueState>> qs_;
  uint16_t nq_ = 0;
  uint16_t burst_ = 32;
  bool inline_ = false;
  bool holds_ = false;  // backend can wait when the ring is full (files)
  uint32_t txMaxLen_ = 0;  // min(TX slot, backend's largest frame): longer frames are dropped
  IdleStrategy idle_;     // copied by each poller thread at its start
  std::atomic<bool> running_{false};
  std::atomic<bool> stopRequested_{false};
};

// Anonymous shared memory (hugepages when asked and available), owned by a shared_ptr that unmaps.
std::shared_ptr<void> mapShared(size_t bytes, bool tryHuge, void** out, std::string* err);

}  // namespace tickpath
