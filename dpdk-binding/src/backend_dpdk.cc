// dpdk backend: one ethdev port (a PCI NIC bound to vfio-pci, or a virtual device such as
// net_null, net_pcap, net_ring, net_af_packet, net_tap), an mbuf pool on the port's NUMA socket,
// N RX queues (RSS when N > 1) and one TX queue per RX queue.
//
// Zero-copy: the mbuf pool's memory chunks are the regions JavaScript maps; an RX descriptor is
// (chunk, offset of the packet's first byte, length), and the mbuf pointer is the release handle,
// freed in bulk once the consumer has passed it. TX copies each frame from its shared-memory slot
// into a fresh mbuf (a TX slot is not an mbuf; attaching slots as external buffers would save the
// copy and is left for when a NIC needs it).
//
// Pollers run on EAL lcores (rte_eal_remote_launch), so mempool per-lcore caches are used; the Node
// main thread stays unpinned (see dpdk_env.cc).
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_memzone.h>
#include <rte_cycles.h>

#include <pthread.h>
#include <emmintrin.h>

#include <cstddef>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "backend.h"
#include "dpdk_env.h"
#include "platform.h"

namespace tickpath {
namespace {

std::atomic<int> g_poolSeq{0};
// Inline polling threads that have exited (DpdkBackend::registerPollingThread): see samePollingThread.
std::atomic<uint64_t> g_pollingThreadExits{0};

std::vector<std::string> splitLines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line, '\n'))
    if (!line.empty()) out.push_back(line);
  return out;
}

// PREFETCHW (every x86-64 CPU DPDK runs on has it); __builtin_prefetch(p, 1) emits a read prefetch
// unless the whole file is built with -mprfchw.
inline void prefetchForWrite(const void* p) { asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p))); }

// Low bit of a release handle (an mbuf pointer, cache-line aligned): this mbuf cannot simply be put
// back into our pool (see rxBurst and release).
constexpr uintptr_t kNeedsFree = 1;

// CLOCK_MONOTONIC nanoseconds for a burst's stamp from one rdtsc, converted with a rate measured
// against clock_gettime and re-anchored on clock_gettime every millisecond, so the TSC's rate error
// never accumulates past one interval; stamps never go backwards. clock_gettime per burst was 5 %
// of the RX lcore's samples on net_null (about 20 ns under KVM, against rdtsc's few). Without a
// TSC rate (0 Hz) every call reads clock_gettime. Single owner: one queue's poller.
class BurstClock {
 public:
  void init(uint64_t tscHz) {
    hz_ = tscHz;
    reanchorTicks_ = tscHz / 1000;
    nsPerTick_ = tscHz ? 1e9 / static_cast<double>(tscHz) : 0;
  }

  uint64_t now() {
    const uint64_t t = rte_rdtsc();
    uint64_t ns;
    if (likely(t - anchorTsc_ < reanchorTicks_)) {
      ns = anchorNs_ + static_cast<uint64_t>(static_cast<double>(t - anchorTsc_) * nsPerTick_);
    } else {
      ns = reanchor(t);
    }
    if (unlikely(ns < last_)) ns = last_;
    last_ = ns;
    return ns;
  }

 private:
  // The anchor pairs clock_gettime with the TSC read just after it, so an interpolated stamp is
  // never ahead of CLOCK_MONOTONIC because of the anchor (a preemption between the two reads makes
  // the following stamps early, never late). The rate is measured from the first tight pair (both
  // TSC reads within 2 us) to this one once they are 10 ms apart, so its error shrinks as the run
  // goes on; until then it is the EAL's TSC frequency.
  uint64_t reanchor(uint64_t t) {
    const uint64_t ns = monotonicNs();
    if (!hz_) return ns;
    const uint64_t t2 = rte_rdtsc();
    if (t2 - t < hz_ / 500000) {
      if (!refNs_) {
        refNs_ = ns;
        refTsc_ = t2;
      } else if (t2 - refTsc_ >= hz_ / 100 && ns > refNs_) {
        const double rate = static_cast<double>(ns - refNs_) / static_cast<double>(t2 - refTsc_);
        const double nominal = 1e9 / static_cast<double>(hz_);
        if (rate > 0.9 * nominal && rate < 1.1 * nominal) nsPerTick_ = rate;
      }
    }
    anchorTsc_ = t2;
    anchorNs_ = ns;
    return ns;
  }

  uint64_t hz_ = 0, reanchorTicks_ = 0, anchorTsc_ = 0, anchorNs_ = 0, last_ = 0, refTsc_ = 0, refNs_ = 0;
  double nsPerTick_ = 0;
};

class DpdkBackend final : public Backend {
  // Per queue: the last rxBurst's bytes and truncated count (lastRxTally), the burst clock and the
  // thread last seen polling. Single writer: that queue's poller, which is also the only reader; a
  // line each, as pollers run on different lcores.
  struct alignas(64) RxQueue {
    uint64_t bytes = 0;
    uint32_t truncated = 0;
    pthread_t pollingThread{};
    uint64_t threadExits = ~0ull;  // g_pollingThreadExits when pollingThread was seen
    rte_mempool_cache* cache = nullptr;  // pollingThread's cache of pool_ (null: none, the ring)
    BurstClock clock;
  };

 public:
  ~DpdkBackend() override { close(); }

  int open(const Options& o, std::string* err) override {
    int rc = dpdkEalInit(splitLines(optString(o, "eal_args", "--in-memory\n--no-telemetry\n--log-level=4")), err);
    if (rc < 0) return rc;

    // The device: an existing port by name or id, or a virtual device we probe (and remove at close).
    std::string vdev = optString(o, "vdev", "");
    std::string portName = optString(o, "port", "");
    if (!vdev.empty()) {
      devName_ = vdev.substr(0, vdev.find(','));
      if (rte_eth_dev_get_port_by_name(devName_.c_str(), &port_) != 0) {
        rc = rte_dev_probe(vdev.c_str());
        if (rc < 0)
          return fail(err, -rc, "cannot create DPDK virtual device '" + vdev + "': " + rte_strerror(-rc) +
                                    " (fix: check the vdev name and arguments, e.g. net_null0 or net_pcap0,rx_pcap=FILE; `dpdk-testpmd --help` lists drivers)");
        probed_ = true;
        if (rte_eth_dev_get_port_by_name(devName_.c_str(), &port_) != 0)
          return fail(err, ENODEV, "virtual device '" + vdev + "' was probed but no ethdev port named '" + devName_ + "' appeared");
      }
    } else if (!portName.empty()) {
      if (rte_eth_dev_get_port_by_name(portName.c_str(), &port_) != 0) {
        char* end;
        long id = strtol(portName.c_str(), &end, 10);
        if (*end || !rte_eth_dev_is_valid_port(static_cast<uint16_t>(id)))
          return fail(err, ENODEV, "no DPDK port '" + portName + "' (" + std::to_string(rte_eth_dev_count_avail()) +
                                       " available) (fix: bind the NIC with dpdk-devbind.py -b vfio-pci <pci>, list it in dpdk.pci, or use a vdev)");
        port_ = static_cast<uint16_t>(id);
      }
    } else {
      return fail(err, EINVAL, "dpdk backend needs option 'vdev' or 'port'");
    }
    opened_ = true;

    rte_eth_dev_info info;
    if ((rc = rte_eth_dev_info_get(port_, &info)) != 0) return fail(err, -rc, "rte_eth_dev_info_get failed");
    driver_ = info.driver_name ? info.driver_name : "?";
    nq_ = static_cast<uint16_t>(optInt(o, "rx_queues", 1));
    if (nq_ < 1 || nq_ > info.max_rx_queues)
      return fail(err, EINVAL, "dpdk rx_queues=" + std::to_string(nq_) + " but port " + devName_ + " (" + driver_ +
                                   ") supports 1.." + std::to_string(info.max_rx_queues));
    uint16_t ntx = std::min<uint16_t>(nq_, info.max_tx_queues);
    socket_ = rte_eth_dev_socket_id(port_);
    if (socket_ < 0) socket_ = static_cast<int>(rte_socket_id());
    if (socket_ < 0 || socket_ == SOCKET_ID_ANY) socket_ = 0;

    // One pool for RX and TX, on the port's socket. Mbuf count: enough for every RX/TX descriptor
    // plus the JS ring's worth of packets held by the consumer.
    uint32_t nbMbufs = static_cast<uint32_t>(optInt(o, "mbufs", 16383));
    uint16_t rxd = static_cast<uint16_t>(optInt(o, "rx_desc", 1024)), txd = static_cast<uint16_t>(optInt(o, "tx_desc", 1024));
    std::string poolName = "tp_pool" + std::to_string(g_poolSeq++);
    if (optString(o, "pool_layout", "span") == "span") pool_ = createPoolInOneSpan(poolName, nbMbufs, socket_, &poolZone_);
    if (!pool_) pool_ = rte_pktmbuf_pool_create(poolName.c_str(), nbMbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket_);
    if (!pool_)
      return fail(err, rte_errno ? rte_errno : ENOMEM,
                  "cannot create a pool of " + std::to_string(nbMbufs) + " mbufs on socket " + std::to_string(socket_) +
                      ": " + rte_strerror(rte_errno) + " (fix: reserve more hugepages with sudo scripts/setup_hugepages.sh 1024, or lower dpdk.mbufs)");
    poolSize_ = pool_->size;
    txMaxFrame_ = std::min<uint32_t>(rte_pktmbuf_data_room_size(pool_) - RTE_PKTMBUF_HEADROOM, 0xffff);
    rte_mempool* mp = pool_;
    const rte_memzone* mz = poolZone_;
    auto owner = std::shared_ptr<void>(mp, [mz](void* p) {
      if (dpdkEalCleanedUp()) return;
      rte_mempool_free(static_cast<rte_mempool*>(p));
      if (mz) rte_memzone_free(mz);
    });
    if (mz) {
      // One span: JavaScript maps it as one region, and every descriptor's region is 0.
      regions_.push_back(Region{mz->addr, mz->len, true, nullptr});
    } else {
      rte_mempool_mem_iter(
          pool_,
          [](rte_mempool*, void* opaque, rte_mempool_memhdr* h, unsigned) {
            static_cast<std::vector<Region>*>(opaque)->push_back(Region{h->addr, h->len, true, nullptr});
          },
          &regions_);
    }
    for (auto& r : regions_) r.owner = owner;
    if (regions_.empty()) return fail(err, ENOMEM, "mbuf pool has no memory chunks");
    buildRegionIndex();

    rte_eth_conf conf;
    memset(&conf, 0, sizeof conf);
    if (nq_ > 1) {
      uint64_t hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;
      conf.rx_adv_conf.rss_conf.rss_hf = hf & info.flow_type_rss_offloads;
      if (conf.rx_adv_conf.rss_conf.rss_hf) conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    }
    if ((rc = rte_eth_dev_configure(port_, nq_, ntx, &conf)) != 0)
      return fail(err, -rc, "rte_eth_dev_configure(port " + devName_ + ") failed: " + rte_strerror(-rc));
    rte_eth_dev_adjust_nb_rx_tx_desc(port_, &rxd, &txd);
    for (uint16_t q = 0; q < nq_; q++)
      if ((rc = rte_eth_rx_queue_setup(port_, q, rxd, socket_, nullptr, pool_)) != 0)
        return fail(err, -rc, "rx queue " + std::to_string(q) + " setup failed: " + rte_strerror(-rc));
    ntx_ = ntx;
    for (uint16_t q = 0; q < ntx; q++)
      if ((rc = rte_eth_tx_queue_setup(port_, q, txd, socket_, nullptr)) != 0)
        return fail(err, -rc, "tx queue " + std::to_string(q) + " setup failed: " + rte_strerror(-rc));
    if ((rc = rte_eth_dev_start(port_)) != 0)
      return fail(err, -rc, "rte_eth_dev_start(" + devName_ + ") failed: " + rte_strerror(-rc));
    started_ = true;
    if (optBool(o, "promiscuous", false)) rte_eth_promiscuous_enable(port_);
    if (optBool(o, "allmulticast", false)) rte_eth_allmulticast_enable(port_);
    rte_eth_link link;
    memset(&link, 0, sizeof link);
    rte_eth_link_get_nowait(port_, &link);
    linkUp_ = link.link_status == RTE_ETH_LINK_UP;
    linkSpeed_ = link.link_speed;
    lcoreList_ = parseCpuList(optString(o, "rx_lcores", ""));
    lcores_.assign(nq_, RTE_MAX_LCORE);
    rxq_.assign(nq_, RxQueue{});
    for (auto& rq : rxq_) rq.clock.init(rte_get_tsc_hz());
    return 0;
  }

  uint16_t rxQueues() const override { return nq_; }
  const std::vector<Region>& regions() const override { return regions_; }

  uint16_t rxBurst(uint16_t q, RxDesc* d, uintptr_t* h, uint16_t max) override {
    RxQueue& rq = rxq_[q];
    // A thread polling inline is registered with the EAL once (rte_lcore_id() is a TLS lookup
    // through __tls_get_addr in a shared object: comparing the thread handle is one load, and the
    // exit count catches a new thread that was given an exited poller's handle).
    if (unlikely(!samePollingThread(rq))) {
      if (rte_lcore_id() == LCORE_ID_ANY) registerPollingThread();
      rq.pollingThread = pthread_self();
      rq.threadExits = g_pollingThreadExits.load(std::memory_order_acquire);
      rq.cache = rte_mempool_default_cache(pool_, rte_lcore_id());
    }
    // The descriptor lines this burst may fill were last read by the consumer's core: ask for them
    // for writing now, so their ownership moves while the driver fills the mbufs instead of
    // stalling the stores below (they were the RX lcore's costliest instructions).
    for (uint32_t off = 0; off < static_cast<uint32_t>(max) * sizeof(RxDesc); off += 64)
      prefetchForWrite(reinterpret_cast<const uint8_t*>(d) + off);
    auto** mbufs = reinterpret_cast<rte_mbuf**>(h);
    uint16_t n = rte_eth_rx_burst(port_, q, mbufs, max);
    if (!n) return 0;
    // One stamp per burst: every packet of a burst was taken from the device in the same call.
    const uint64_t ts = rq.clock.now();
    const uint32_t tsLo = static_cast<uint32_t>(ts), tsHi = static_cast<uint32_t>(ts >> 32);
    if (likely(regions_.size() == 1)) return fillOneSpan(rq, q, d, h, n, tsLo, tsHi);
    uint64_t bytes = 0;
    uint32_t truncated = 0;
    for (uint16_t i = 0; i < n; i++) {
      rte_mbuf* m = mbufs[i];
      auto* data = rte_pktmbuf_mtod(m, uint8_t*);
      const bool more = unlikely(m->nb_segs > 1);  // jumbo: JS sees the first segment
      const uint16_t r = regionOf(data);
      d[i] = RxDesc{static_cast<uint32_t>(data - static_cast<uint8_t*>(regions_[r].base)), r,
                    static_cast<uint16_t>(more ? kRxFlagTsPoll | kRxFlagTruncated : kRxFlagTsPoll), m->data_len, m->pkt_len, tsLo, tsHi, q, 0};
      bytes += m->data_len;
      truncated += more;
      if (!isPlain(m)) h[i] |= kNeedsFree;
    }
    rq.bytes = bytes;
    rq.truncated = truncated;
    return n;
  }

  // Whether release may put this mbuf straight back into our pool: ours, not shared, one segment,
  // direct (not attached to another's data). Read while its first line is still in this core's
  // cache (the driver just wrote it); anything else goes through rte_pktmbuf_free (net_ring passes
  // on whatever mbufs its sender enqueued, from any pool). refcnt and nb_segs are two adjacent u16
  // in the rearm word after data_off: one compare.
  bool isPlain(const rte_mbuf* m) const {
    uint64_t rearm;
    memcpy(&rearm, &m->rearm_data, sizeof rearm);
    return ((rearm >> 16) & 0xffffffffu) == 0x00010001u && m->pool == pool_ &&
           !(m->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL));
  }

  // The descriptors of a burst from a one-span pool: offset by subtraction, region 0. Each is two
  // 16-byte stores, the second (stamp, queue, aux) the same for the whole burst; a plain mbuf (the
  // only kind net_null and NIC drivers hand out) takes one branch.
  uint16_t fillOneSpan(RxQueue& rq, uint16_t q, RxDesc* d, uintptr_t* h, uint16_t n, uint32_t tsLo, uint32_t tsHi) {
    static_assert(offsetof(RxDesc, tsLo) == 16 && offsetof(RxDesc, aux) == 28, "second half: tsLo, tsHi, queue, aux");
    const __m128i tail = _mm_set_epi32(0, q, static_cast<int>(tsHi), static_cast<int>(tsLo));
    const uintptr_t base = reinterpret_cast<uintptr_t>(regions_[0].base);
    const int plainFlags = kRxFlagTsPoll << 16;  // region 0
    uint64_t bytes = 0;
    uint32_t truncated = 0;
    for (uint16_t i = 0; i < n; i++) {
      const rte_mbuf* m = reinterpret_cast<const rte_mbuf*>(h[i]);
      const uint32_t off = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(m->buf_addr) + m->data_off - base);
      int flags = plainFlags;
      if (unlikely(!isPlain(m))) {
        h[i] |= kNeedsFree;
        if (m->nb_segs > 1) {  // jumbo: JS sees the first segment
          flags |= kRxFlagTruncated << 16;
          truncated++;
        }
      }
      auto* out = reinterpret_cast<__m128i*>(d + i);
      _mm_storeu_si128(out, _mm_set_epi32(static_cast<int>(m->pkt_len), m->data_len, flags, static_cast<int>(off)));
      _mm_storeu_si128(out + 1, tail);
      bytes += m->data_len;
    }
    rq.bytes = bytes;
    rq.truncated = truncated;
    return n;
  }

  bool lastRxTally(uint16_t q, uint64_t* bytes, uint32_t* truncated) const override {
    *bytes = rxq_[q].bytes;
    *truncated = rxq_[q].truncated;
    return true;
  }

  // The mbuf pool in one memzone, so JavaScript maps one region and a descriptor's offset is a
  // subtraction. rte_pktmbuf_pool_create asks for IOVA-contiguous memory first and, on hugepages
  // whose physical pages are scattered, ends up with dozens of separate memzones (35 for 32767
  // mbufs with --in-memory); finding each packet's chunk was 14 % of the RX lcore's samples even
  // through the address index. One virtually contiguous zone populated page group by page group
  // (rte_mempool_populate_virt) keeps the per-chunk IOVA right for a NIC. Returns null (and frees
  // what it made) when the zone cannot be had or holds fewer than n mbufs (4 KiB pages, where
  // mbufs may not straddle a page); the caller then uses rte_pktmbuf_pool_create as before.
  static rte_mempool* createPoolInOneSpan(const std::string& name, uint32_t n, int socket, const rte_memzone** zoneOut) {
    *zoneOut = nullptr;
    const uint16_t dataRoom = RTE_MBUF_DEFAULT_BUF_SIZE;
    rte_mempool* mp = rte_mempool_create_empty(name.c_str(), n, sizeof(rte_mbuf) + dataRoom, 256,
                                               sizeof(rte_pktmbuf_pool_private), socket, 0);
    if (!mp) return nullptr;
    const rte_memzone* mz = nullptr;
    auto giveUp = [&]() -> rte_mempool* {
      rte_mempool_free(mp);
      if (mz) rte_memzone_free(mz);
      rte_errno = 0;
      return nullptr;
    };
    if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), nullptr) != 0) return giveUp();
    rte_pktmbuf_pool_private priv;
    memset(&priv, 0, sizeof priv);
    priv.mbuf_data_room_size = dataRoom;
    rte_pktmbuf_pool_init(mp, &priv);
    constexpr size_t kPage = 2u << 20;
    size_t minChunk = 0, align = 0;
    ssize_t need = rte_mempool_op_calc_mem_size_default(mp, n, 21, &minChunk, &align);
    if (need <= 0) return giveUp();
    size_t len = (static_cast<size_t>(need) + kPage - 1) & ~(kPage - 1);
    mz = rte_memzone_reserve_aligned((name + "_mz").c_str(), len, socket, 0, kPage);
    if (!mz || mz->hugepage_sz < 4096) return giveUp();
    size_t pg = std::min<size_t>(mz->hugepage_sz, kPage);
    int got = rte_mempool_populate_virt(mp, static_cast<char*>(mz->addr), len, pg, nullptr, nullptr);
    if (got < 0 || mp->populated_size != mp->size) return giveUp();
    rte_mempool_obj_iter(mp, rte_pktmbuf_init, nullptr);
    *zoneOut = mz;
    return mp;
  }

  // A thread that polls inline (a JS worker's read(), not an EAL lcore) is registered with the EAL
  // on its first burst, so it gets an lcore id and with it the mempool's per-lcore cache: without
  // one every alloc and free went to the pool's shared ring, in FIFO order over the whole pool, and
  // each mbuf header net_null wrote was a cache miss (inline RX ran at half testpmd's rate per CPU).
  // Unregistered when the thread ends; the mbufs left in its cache still count as free in the pool.
  // Registration never changes the thread's CPU affinity. If no lcore id is left it stays as it was.
  static void registerPollingThread() {
    thread_local struct Registration {
      bool tried = false, registered = false;
      ~Registration() {
        if (registered && !dpdkEalCleanedUp()) rte_thread_unregister();
        g_pollingThreadExits.fetch_add(1, std::memory_order_release);
      }
    } reg;
    if (reg.tried) return;
    reg.tried = true;
    reg.registered = rte_thread_register() == 0;
  }

  // Whether the calling thread is the one rxq's lcore id and cache were looked up for. pthread
  // handles are reused once a thread has exited, so a polling thread's exit (the only kind that
  // exits while a port runs: an inline consumer's worker) also invalidates every queue's record.
  static bool samePollingThread(const RxQueue& rq) {
    return pthread_equal(rq.pollingThread, pthread_self()) && rq.threadExits == g_pollingThreadExits.load(std::memory_order_relaxed);
  }

  // The chunk (region) an mbuf's data lies in. A pool has dozens of chunks (35 for 32767 mbufs
  // with --in-memory), and a linear search over them was 80 % of the RX lcore's time on net_null:
  // a table indexed by the address's granule names the chunk directly, checked against its bounds
  // (a granule that straddles two chunks names one of them; the other falls to the search).
  uint16_t regionOf(const uint8_t* data) const {
    uintptr_t a = reinterpret_cast<uintptr_t>(data);
    uintptr_t g = (a - spanLo_) >> granuleShift_;
    if (likely(a >= spanLo_ && g < granules_.size())) {
      uint16_t r = granules_[g];
      if (likely(r != kNoRegion && a >= bounds_[r].lo && a < bounds_[r].hi)) return r;
    }
    for (uint16_t r = 0; r < bounds_.size(); r++)
      if (a >= bounds_[r].lo && a < bounds_[r].hi) return r;
    return 0;
  }

  void buildRegionIndex() {
    bounds_.clear();
    uintptr_t lo = UINTPTR_MAX, hi = 0, minLen = UINTPTR_MAX;
    for (const auto& r : regions_) {
      uintptr_t b = reinterpret_cast<uintptr_t>(r.base);
      bounds_.push_back(Bounds{b, b + r.len});
      lo = std::min(lo, b);
      hi = std::max(hi, b + r.len);
      minLen = std::min<uintptr_t>(minLen, r.len);
    }
    // Granules at most 1/16 of the smallest chunk (few straddle a boundary), at least 4 KiB, and
    // at most 1 Mi of them whatever the span.
    granuleShift_ = 12;
    while ((uintptr_t(2) << granuleShift_) <= minLen / 16) granuleShift_++;
    while (((hi - lo) >> granuleShift_) >= (uintptr_t(1) << 20)) granuleShift_++;
    spanLo_ = lo;
    granules_.assign(((hi - lo) >> granuleShift_) + 1, kNoRegion);
    for (uint16_t r = 0; r < bounds_.size(); r++)
      for (uintptr_t g = (bounds_[r].lo - lo) >> granuleShift_; g <= (bounds_[r].hi - 1 - lo) >> granuleShift_; g++)
        if (granules_[g] == kNoRegion) granules_[g] = r;
  }

  // Handles the consumer has passed. rte_pktmbuf_free_bulk reads two lines of every mbuf (refcnt,
  // next, pool) to find what rxBurst already knew while those lines were hot; by now they have
  // usually left L1 (a ring's worth of packets later), and those reads were 27 % of the RX lcore's
  // samples on net_null. Runs rxBurst marked plain go back to the pool with one
  // rte_mempool_put_bulk (the per-lcore cache, no mbuf touched); a marked mbuf is freed on its own.
  // The polling thread's mempool cache is looked up once (rte_mempool_put_bulk would find it through
  // rte_lcore_id(), a TLS call); another thread (close, a new inline consumer) looks it up itself.
  void release(uint16_t q, const uintptr_t* h, uint16_t n) override {
    const RxQueue& rq = rxq_[q];
    rte_mempool_cache* cache = likely(samePollingThread(rq)) ? rq.cache : rte_mempool_default_cache(pool_, rte_lcore_id());
    uint16_t i = 0;
    while (i < n) {
      uint16_t j = i;
      while (j < n && likely(!(h[j] & kNeedsFree))) j++;
      if (j > i) rte_mempool_generic_put(pool_, reinterpret_cast<void* const*>(h + i), j - i, cache);
      if (j < n) rte_pktmbuf_free(reinterpret_cast<rte_mbuf*>(h[j] & ~kNeedsFree));
      i = j + 1;
    }
  }

  // Frames fit one mbuf (txMaxFrame), so every allocated mbuf carries a frame; whatever
  // rte_eth_tx_burst did not take is freed and stays in the TX ring for the next poll.
  int txBurst(uint16_t q, const TxFrame* f, uint16_t n) override {
    if (unlikely(rte_lcore_id() == LCORE_ID_ANY)) registerPollingThread();
    rte_mbuf* mbufs[512];
    n = std::min<uint16_t>(n, 512);
    if (unlikely(rte_pktmbuf_alloc_bulk(pool_, mbufs, n) != 0)) return 0;  // pool empty: retried next poll
    for (uint16_t i = 0; i < n; i++) memcpy(rte_pktmbuf_append(mbufs[i], static_cast<uint16_t>(f[i].len)), f[i].data, f[i].len);
    uint16_t sent = rte_eth_tx_burst(port_, q < ntx_ ? q : 0, mbufs, n);
    if (unlikely(sent < n)) rte_pktmbuf_free_bulk(mbufs + sent, n - sent);  // never given out: not marked
    return sent;
  }

  uint32_t txMaxFrame() const override { return txMaxFrame_; }

  void deviceStats(DeviceStats* out) override {
    if (opened_ && started_) {
      rte_eth_stats s;
      if (rte_eth_stats_get(port_, &s) == 0) {
        out->imissed = s.imissed;
        out->ierrors = s.ierrors;
        out->rxNoMbuf = s.rx_nombuf;
        out->oerrors = s.oerrors;
      }
    }
    if (pool_) {
      out->poolSize = poolSize_;
      out->poolFree = rte_mempool_avail_count(pool_);
    }
  }

  int launchPoller(uint16_t q, int (*fn)(void*), void* arg, std::string* err) override {
    unsigned lcore = RTE_MAX_LCORE;
    if (!lcoreList_.empty()) {
      lcore = static_cast<unsigned>(lcoreList_[q % lcoreList_.size()]);
      if (lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore) || lcore == rte_get_main_lcore())
        return fail(err, EINVAL, "dpdk rx_lcores names lcore " + std::to_string(lcore) +
                                     ", which is not an enabled worker lcore (fix: map it in dpdk.lcores, e.g. '0@(0-1),1@1')");
    } else {
      // First idle worker lcore not already taken by another queue.
      unsigned l;
      RTE_LCORE_FOREACH_WORKER(l) {
        if (rte_eal_get_lcore_state(l) == WAIT) {
          lcore = l;
          break;
        }
      }
    }
    if (lcore == RTE_MAX_LCORE) return 0;  // no worker lcore: the port uses a std::thread
    int rc = rte_eal_remote_launch(fn, arg, lcore);
    if (rc != 0)
      return fail(err, rc < 0 ? -rc : EBUSY, "rte_eal_remote_launch on lcore " + std::to_string(lcore) +
                                                 " failed: lcore busy (fix: give each RX queue its own lcore in dpdk.rxLcores)");
    lcores_[q] = lcore;
    return 1;
  }

  void joinPoller(uint16_t q) override {
    if (q < lcores_.size() && lcores_[q] != RTE_MAX_LCORE) {
      rte_eal_wait_lcore(lcores_[q]);
      lcores_[q] = RTE_MAX_LCORE;
    }
  }

  void close() override {
    if (!opened_) return;
    if (started_) {
      rte_eth_dev_stop(port_);
      started_ = false;
    }
    // Closing the port frees the mbufs its queues held, so the pool's free count is whole again.
    rte_eth_dev_close(port_);
    if (probed_) rte_eal_hotplug_remove("vdev", devName_.c_str());
    opened_ = false;
  }

  std::string describe() const override {
    return "dpdk port " + std::to_string(port_) + " '" + devName_ + "' driver " + driver_ + ", " + std::to_string(nq_) +
           " rx queue(s), socket " + std::to_string(socket_) + ", link " + (linkUp_ ? "up " + std::to_string(linkSpeed_) + " Mb/s" : std::string("down")) +
           ", pool " + std::to_string(poolSize_) + " mbufs in " + std::to_string(regions_.size()) + " chunk(s)";
  }

 private:
  uint16_t port_ = 0;
  std::string devName_, driver_;
  bool probed_ = false, opened_ = false, started_ = false, linkUp_ = false;
  uint32_t linkSpeed_ = 0;
  uint16_t nq_ = 0, ntx_ = 0;
  int socket_ = 0;
  rte_mempool* pool_ = nullptr;
  const rte_memzone* poolZone_ = nullptr;  // the pool's one span (createPoolInOneSpan), or null
  uint64_t poolSize_ = 0;
  uint32_t txMaxFrame_ = 0;  // one mbuf's data room: TX frames are copied into a single segment
  std::vector<Region> regions_;
  struct Bounds { uintptr_t lo, hi; };
  static constexpr uint16_t kNoRegion = 0xffff;
  std::vector<Bounds> bounds_;          // regions_' address ranges, for regionOf
  std::vector<uint16_t> granules_;      // region by (address - spanLo_) >> granuleShift_
  uintptr_t spanLo_ = 0;
  unsigned granuleShift_ = 12;
  std::vector<RxQueue> rxq_;
  std::vector<int> lcoreList_;
  std::vector<unsigned> lcores_;
};

}  // namespace

std::unique_ptr<Backend> createDpdkBackend() { return std::make_unique<DpdkBackend>(); }

}  // namespace tickpath
