// tickpath packet backends: the one interface every packet source implements.
//
// A backend owns packet memory and moves packets in bursts: rxBurst fills descriptors that point
// into that memory and hands back one opaque handle per packet; release returns those handles once
// the JavaScript consumer is done reading in place. Nothing here includes V8 or nan: the glue
// (glue.cc) is the only file that does.
//
// Threading contract: for one queue, rxBurst/release/txBurst are called from one thread at a time
// (the queue's poller: an EAL lcore for dpdk, a std::thread or the JS worker calling poll() for the
// others). open/close/stats are called from the owning JS thread while no poller runs, except
// stats, which reads counters that pollers write with relaxed stores.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ring_layout.h"

namespace tickpath {

// Flat string options: lib/binding validates and types them; backends only parse.
using Options = std::map<std::string, std::string>;

// A span of packet memory that JavaScript maps as one SharedArrayBuffer.
// `owner` keeps the memory alive: the glue hands a copy to every SharedArrayBuffer it makes, so
// memory is freed only once the backend is closed AND every JS view of it has been collected.
struct Region {
  void* base;
  size_t len;
  bool writable;
  std::shared_ptr<void> owner;
};

// NIC/kernel-level counters a backend can add (dpdk: imissed, rx_nombuf; af_packet: tp_drops).
// Per-queue counters are not here: the Port counts them (ring_layout.h, QueueCounter).
struct DeviceStats {
  uint64_t imissed = 0;
  uint64_t ierrors = 0;
  uint64_t rxNoMbuf = 0;
  uint64_t kernelDrops = 0;
  uint64_t oerrors = 0;
  uint64_t malformed = 0;  // records the backend could not parse (pcap record past end of file)
  uint64_t poolSize = 0;   // buffers the backend owns in all (dpdk mempool size, UMEM frames)
  uint64_t poolFree = 0;   // of which free now: equals poolSize after close() when none leaked
};

// One frame to transmit: bytes in a TX slot of shared memory.
struct TxFrame {
  const uint8_t* data;
  uint32_t len;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Opens the device. Returns 0 or a negative errno with *err set to "cause (fix: ...)".
  virtual int open(const Options& opts, std::string* err) = 0;

  virtual uint16_t rxQueues() const = 0;

  // Packet memory JavaScript may read; RxDesc::region indexes this list. Stable after open().
  virtual const std::vector<Region>& regions() const = 0;

  // Fills up to max descriptors (and one handle each) for queue q. Returns how many. Never blocks
  // for long: a poll-mode backend returns 0 when nothing is there.
  virtual uint16_t rxBurst(uint16_t q, RxDesc* descs, uintptr_t* handles, uint16_t max) = 0;

  // Optional: the captured bytes and the truncated packets of the descriptors the last rxBurst on
  // queue q filled, summed while it filled them (values in registers), so the Port need not read
  // every descriptor again to count them (0.6 ns of the dpdk lcore's ~6 ns per packet). Called by
  // the queue's poller right after rxBurst returned n > 0. False: not kept, the Port counts.
  virtual bool lastRxTally(uint16_t q, uint64_t* bytes, uint32_t* truncated) const {
    (void)q; (void)bytes; (void)truncated;
    return false;
  }

  // Gives n buffers back to the device (mbufs freed, fill ring refilled, blocks returned).
  virtual void release(uint16_t q, const uintptr_t* handles, uint16_t n) = 0;

  // Sends frames from the front of `frames`, like rte_eth_tx_burst: returns how many it consumed
  // (0..n), counted from the front; frames [ret, n) were not touched and the Port offers them again
  // on its next poll. Every frame is at most txMaxFrame() bytes (the Port drops longer ones and
  // counts them). A negative errno means the device refused frames[0] for good (link down, too
  // long for the link): the Port consumes that one frame and counts it in txFailed, so a frame is
  // never sent twice and never blocks the ones behind it. Bytes may be reused once this returns
  // (a backend that cannot send from them copies).
  virtual int txBurst(uint16_t q, const TxFrame* frames, uint16_t n) = 0;

  // Largest frame txBurst can send (a buffer's data room, the socket's limit). Stable after open().
  virtual uint32_t txMaxFrame() const = 0;

  virtual void deviceStats(DeviceStats* out) = 0;

  // True for sources that can wait (a file): when the consumer's ring is full the poller leaves the
  // packets where they are instead of receiving and dropping them, as a NIC queue would force.
  virtual bool holdsWhenFull() const { return false; }

  // True when queue q will never receive again (a replayed file has ended). Live devices: false.
  virtual bool rxDone(uint16_t q) const {
    (void)q;
    return false;
  }

  // Stops the device and returns every buffer. Idempotent.
  virtual void close() = 0;

  // Backends may run their pollers somewhere special (dpdk: an EAL lcore). Returns 1 when fn runs
  // there (joinPoller waits for it), 0 when the caller should start a std::thread itself, or a
  // negative errno with *err set to "cause (fix: ...)" when the configured placement is impossible.
  virtual int launchPoller(uint16_t q, int (*fn)(void*), void* arg, std::string* err) {
    (void)q; (void)fn; (void)arg; (void)err;
    return 0;
  }
  virtual void joinPoller(uint16_t /*q*/) {}

  // A human-readable line about what was opened (driver, link, mode), for logs.
  virtual std::string describe() const = 0;
};

// Backend registry: names as used in configs ("dpdk", "af_xdp", "af_packet", "udp", "pcap").
struct BackendInfo {
  const char* name;
  bool compiledIn;
  const char* missing;  // when not compiled in: the packages to install and rebuild with
  std::unique_ptr<Backend> (*create)();
};

const std::vector<BackendInfo>& backendRegistry();

// Backend factories; the ones not compiled in are absent (see backends.cc).
std::unique_ptr<Backend> createPcapBackend();
std::unique_ptr<Backend> createUdpBackend();
std::unique_ptr<Backend> createAfPacketBackend();
#ifdef TICKPATH_HAVE_XDP
std::unique_ptr<Backend> createAfXdpBackend();
#endif
#ifdef TICKPATH_HAVE_DPDK
std::unique_ptr<Backend> createDpdkBackend();
#endif

// Option helpers shared by backends.
std::string optString(const Options& o, const char* key, const std::string& dflt);
long long optInt(const Options& o, const char* key, long long dflt);
bool optBool(const Options& o, const char* key, bool dflt);

// errno-style failure with a message: "*err = msg; return -errnum".
int fail(std::string* err, int errnum, const std::string& msg);

}  // namespace tickpath
