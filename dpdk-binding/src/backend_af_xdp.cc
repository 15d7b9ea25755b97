// af_xdp backend: one XSK socket on interface+queue, its UMEM mapped zero-copy into JS.
//
// The UMEM (hugepages when the host has them, else normal pages) is the Region: the kernel (copy
// mode) or the NIC (zero-copy mode) writes each packet into a UMEM frame, and a descriptor is that
// frame's offset. Frames [0, rxFrames) circulate fill ring -> RX ring -> JS -> release() -> fill
// ring; frames [rxFrames, frames) are a TX pool: a TX slot is copied into a free one, posted on the
// TX ring, and comes back through the completion ring.
//
// The XDP program is ours, eight instructions built here (redirect to the XSKMAP entry for the
// packet's RX queue, XDP_PASS when none), loaded with libbpf and attached with UPDATE_IF_NOEXIST:
// no bpffs mount, no libxdp dispatcher, and an interface that already runs an XDP program is left
// alone with a clear error. Native (driver) mode is tried first, then generic (SKB) mode; zero-copy
// first, then copy, unless the options pin them.
//
// Timestamps: AF_XDP carries none; descriptors get CLOCK_MONOTONIC when the poller saw the burst
// (kRxFlagTsPoll). Framing: descriptors start at the Ethernet header; aux = 0.
//
// Threading: rxBurst/release/txBurst from the queue's poller; deviceStats from the JS thread
// (XDP_STATISTICS is a plain getsockopt; the pool counters are relaxed atomics).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "backend.h"
#include "platform.h"

namespace tickpath {
namespace {

uint32_t roundPow2(uint32_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}

class AfXdpBackend final : public Backend {
 public:
  ~AfXdpBackend() override { close(); }

  int open(const Options& o, std::string* err) override {
    ifname_ = optString(o, "interface", "");
    if (ifname_.empty()) return fail(err, EINVAL, "af_xdp backend needs option 'interface' (fix: name one from `ip link`)");
    ifindex_ = static_cast<int>(if_nametoindex(ifname_.c_str()));
    if (!ifindex_) return fail(err, ENODEV, "af_xdp: no network interface '" + ifname_ + "' (fix: list interfaces with `ip link`)");
    queue_ = static_cast<uint32_t>(optInt(o, "queue", 0));
    frameSize_ = static_cast<uint32_t>(optInt(o, "frame_size", 2048));
    frames_ = static_cast<uint32_t>(optInt(o, "frames", 4096));
    std::string mode = optString(o, "mode", "auto"), zc = optString(o, "zero_copy", "auto");
    if (frameSize_ != 2048 && frameSize_ != 4096)
      return fail(err, EINVAL, "af_xdp option frame_size=" + std::to_string(frameSize_) + ": expected 2048 or 4096");
    if (frames_ < 64 || frames_ > (1u << 20) || (frames_ & (frames_ - 1)))
      return fail(err, EINVAL, "af_xdp option frames=" + std::to_string(frames_) + ": expected a power of two 64..1048576");
    if (mode != "auto" && mode != "native" && mode != "generic")
      return fail(err, EINVAL, "af_xdp option mode='" + mode + "': expected auto, native or generic");
    if (zc != "auto" && zc != "true" && zc != "false")
      return fail(err, EINVAL, "af_xdp option zero_copy='" + zc + "': expected auto, true or false");
    if (zc == "true" && mode == "generic")
      return fail(err, EINVAL, "af_xdp options mode=generic and zero_copy=true conflict: generic (SKB) mode always copies");
    txFrames_ = frames_ / 4;
    rxFrames_ = frames_ - txFrames_;

    // UMEM: one region, hugepages when available (private: only this process maps it).
    size_t umemBytes = static_cast<size_t>(frames_) * frameSize_;
    size_t mapLen = (umemBytes + (2u << 20) - 1) & ~((2ul << 20) - 1);
    void* mem = mmap(nullptr, mapLen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
    huge_ = mem != MAP_FAILED;
    if (!huge_) {
      mapLen = umemBytes;
      mem = mmap(nullptr, mapLen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    }
    if (mem == MAP_FAILED) return fail(err, errno, "af_xdp: cannot map a UMEM of " + std::to_string(umemBytes) + " bytes: " + strerror(errno));
    auto owner = std::shared_ptr<void>(mem, [mapLen](void* p) { munmap(p, mapLen); });
    umem_ = static_cast<uint8_t*>(mem);
    umemBytes_ = umemBytes;
    regions_.push_back(Region{mem, umemBytes, false, owner});

    // XSKMAP + program.
    mapFd_ = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "tp_xsks", 4, 4, 64, nullptr);
    if (mapFd_ < 0) return bpfFail(err, -mapFd_, "cannot create the XSKMAP");
    bpf_insn prog[] = {
        insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, offsetof(xdp_md, rx_queue_index), 0),
        insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, mapFd_),
        insn(0, 0, 0, 0, 0),
        insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, XDP_PASS),  // fallback action when no entry
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    progFd_ = bpf_prog_load(BPF_PROG_TYPE_XDP, "tp_xsk_redir", "GPL", prog, sizeof prog / sizeof prog[0], nullptr);
    if (progFd_ < 0) return bpfFail(err, -progFd_, "cannot load the XDP program");

    std::string tried;
    int rc = -EINVAL;
    const char* modes[2] = {"native", "generic"};
    for (const char* m : modes) {
      if (mode != "auto" && mode != m) continue;
      uint32_t flags = (std::string(m) == "native" ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE) | XDP_FLAGS_UPDATE_IF_NOEXIST;
      rc = bpf_xdp_attach(ifindex_, progFd_, flags, nullptr);
      if (rc == 0) {
        attachFlags_ = flags & ~XDP_FLAGS_UPDATE_IF_NOEXIST;
        mode_ = m;
        break;
      }
      tried += std::string(tried.empty() ? "" : "; ") + m + ": " + strerror(-rc);
      if (rc == -EBUSY || rc == -EEXIST)
        return fail(err, EBUSY, "af_xdp: '" + ifname_ + "' already runs an XDP program (fix: `ip link set dev " + ifname_ +
                                    " xdp off` if it is stale, or use the af_packet backend)");
      if (rc == -EPERM || rc == -EACCES) break;
    }
    if (mode_.empty()) {
      if (rc == -EPERM || rc == -EACCES) return bpfFail(err, -rc, "cannot attach the XDP program to '" + ifname_ + "'");
      return fail(err, EOPNOTSUPP, "af_xdp: cannot attach XDP to '" + ifname_ + "' (" + tried +
                                       ") (fix: try mode=generic, or a kernel/driver with XDP support)");
    }

    // Socket: zero-copy first when allowed (native mode only), then copy.
    std::vector<uint16_t> binds;
    if (mode_ == "native" && zc != "false") binds.push_back(XDP_ZEROCOPY);
    if (zc != "true") binds.push_back(XDP_COPY);
    tried.clear();
    for (uint16_t bf : binds) {
      // EBUSY right after another socket on this queue closed: the kernel frees a queue's pool
      // from a workqueue, so give it a moment.
      for (int attempt = 0; attempt < 100; attempt++) {
        rc = createSocket(bf | XDP_USE_NEED_WAKEUP);
        if (rc != -EBUSY) break;
        usleep(10000);
      }
      if (rc == 0) {
        zeroCopy_ = bf == XDP_ZEROCOPY;
        break;
      }
      tried += std::string(tried.empty() ? "" : "; ") + (bf == XDP_ZEROCOPY ? "zero-copy: " : "copy: ") + strerror(-rc);
      if (rc == -EPERM || rc == -EACCES) return bpfFail(err, -rc, "cannot create the AF_XDP socket");
    }
    if (!xsk_) {
      if (rc == -EINVAL && queue_ > 0)
        return fail(err, EINVAL, "af_xdp: cannot bind '" + ifname_ + "' queue " + std::to_string(queue_) + " (" + tried +
                                     ") (fix: the queue must exist: `ethtool -l " + ifname_ + "`)");
      std::string fix = rc == -EOPNOTSUPP ? " (fix: this driver has no AF_XDP zero-copy: use zero_copy=auto or false)"
                        : rc == -EBUSY    ? " (fix: another XSK socket is bound to this queue; close it or pick another queue)"
                                          : "";
      return fail(err, -rc, "af_xdp: cannot bind an XSK socket to '" + ifname_ + "' queue " + std::to_string(queue_) + " (" + tried + ")" + fix);
    }
    int xfd = xsk_socket__fd(xsk_);
    if ((rc = bpf_map_update_elem(mapFd_, &queue_, &xfd, 0)) != 0)
      return bpfFail(err, errno, "cannot register the XSK socket in the XSKMAP");

    // Every RX frame starts on the fill ring; TX frames start free.
    uint32_t idx = 0;
    if (xsk_ring_prod__reserve(&fill_, rxFrames_, &idx) != rxFrames_)
      return fail(err, ENOSPC, "af_xdp: fill ring smaller than the RX frames");
    for (uint32_t i = 0; i < rxFrames_; i++) *xsk_ring_prod__fill_addr(&fill_, idx + i) = static_cast<uint64_t>(i) * frameSize_;
    xsk_ring_prod__submit(&fill_, rxFrames_);
    txFree_.reserve(txFrames_);
    for (uint32_t i = 0; i < txFrames_; i++) txFree_.push_back(static_cast<uint64_t>(rxFrames_ + i) * frameSize_);
    return 0;
  }

  uint16_t rxQueues() const override { return 1; }
  const std::vector<Region>& regions() const override { return regions_; }

  uint16_t rxBurst(uint16_t q, RxDesc* d, uintptr_t* h, uint16_t max) override {
    uint32_t idx = 0;
    uint32_t n = xsk_ring_cons__peek(&rx_, max, &idx);
    if (n == 0) {
      // need_wakeup: the driver sleeps until told the fill ring has frames again.
      if (xsk_ring_prod__needs_wakeup(&fill_)) recvfrom(xsk_socket__fd(xsk_), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
      return 0;
    }
    uint64_t now = monotonicNs();
    for (uint32_t i = 0; i < n; i++) {
      const xdp_desc* x = xsk_ring_cons__rx_desc(&rx_, idx + i);
      uint64_t addr = xsk_umem__add_offset_to_addr(x->addr);
      d[i] = RxDesc{static_cast<uint32_t>(addr), 0, kRxFlagTsPoll, x->len, x->len, static_cast<uint32_t>(now),
                    static_cast<uint32_t>(now >> 32), q, 0};
      h[i] = addr;
    }
    xsk_ring_cons__release(&rx_, n);
    rxHeld_.fetch_add(n, std::memory_order_relaxed);
    return static_cast<uint16_t>(n);
  }

  // The fill ring holds every RX frame, so the reservation cannot come up short.
  void release(uint16_t, const uintptr_t* h, uint16_t n) override {
    uint32_t idx = 0;
    if (__builtin_expect(xsk_ring_prod__reserve(&fill_, n, &idx) != n, 0)) return;
    const uint64_t frameMask = ~static_cast<uint64_t>(frameSize_ - 1);
    for (uint16_t i = 0; i < n; i++) *xsk_ring_prod__fill_addr(&fill_, idx + i) = h[i] & frameMask;
    xsk_ring_prod__submit(&fill_, n);
    rxHeld_.fetch_sub(n, std::memory_order_relaxed);
  }

  int txBurst(uint16_t, const TxFrame* f, uint16_t n) override {
    reclaimCompletions();
    uint32_t m = std::min<uint32_t>(n, static_cast<uint32_t>(txFree_.size()));
    uint32_t idx = 0;
    if (m == 0 || xsk_ring_prod__reserve(&tx_, m, &idx) != m) {
      kickTx();
      return 0;
    }
    // Frames fit a UMEM frame (txMaxFrame): all m reserved descriptors are filled and submitted.
    for (uint32_t i = 0; i < m; i++) {
      uint64_t addr = txFree_.back();
      txFree_.pop_back();
      memcpy(umem_ + addr, f[i].data, f[i].len);
      xdp_desc* x = xsk_ring_prod__tx_desc(&tx_, idx + i);
      x->addr = addr;
      x->len = f[i].len;
      x->options = 0;
    }
    xsk_ring_prod__submit(&tx_, m);
    txInFlight_.fetch_add(m, std::memory_order_relaxed);
    kickTx();
    return static_cast<int>(m);
  }

  uint32_t txMaxFrame() const override { return frameSize_; }

  void deviceStats(DeviceStats* out) override {
    if (xsk_) {
      xdp_statistics st{};
      socklen_t len = sizeof st;
      if (getsockopt(xsk_socket__fd(xsk_), SOL_XDP, XDP_STATISTICS, &st, &len) == 0) last_ = st;
    }
    out->kernelDrops = last_.rx_dropped + last_.rx_ring_full + last_.rx_fill_ring_empty_descs;
    out->ierrors = last_.rx_invalid_descs;
    out->oerrors = last_.tx_invalid_descs;
    out->poolSize = frames_;
    out->poolFree = frames_ - rxHeld_.load(std::memory_order_relaxed) - txInFlight_.load(std::memory_order_relaxed);
  }

  void close() override {
    if (xsk_) {
      reclaimCompletions();
      DeviceStats s;
      deviceStats(&s);
    }
    if (progFd_ >= 0 && !mode_.empty()) {
      // Detach only if the program there is still ours.
      bpf_xdp_attach_opts opts{};
      opts.sz = sizeof opts;
      opts.old_prog_fd = progFd_;
      bpf_xdp_detach(ifindex_, attachFlags_, &opts);
      lastMode_ = mode_;
      mode_.clear();
    }
    if (xsk_) xsk_socket__delete(xsk_);
    xsk_ = nullptr;
    if (umemH_) xsk_umem__delete(umemH_);
    umemH_ = nullptr;
    if (progFd_ >= 0) ::close(progFd_);
    if (mapFd_ >= 0) ::close(mapFd_);
    progFd_ = mapFd_ = -1;
  }

  std::string describe() const override {
    return "af_xdp " + ifname_ + " queue " + std::to_string(queue_) + ", " + (mode_.empty() ? lastMode_ : mode_) + " mode, " +
           (zeroCopy_ ? "zero-copy" : "copy") + ", UMEM " + std::to_string(frames_) + " x " + std::to_string(frameSize_) +
           " B (" + (huge_ ? "hugepages" : "4 KiB pages") + "), " +
           std::to_string(rxFrames_) + " RX / " + std::to_string(txFrames_) + " TX frames";
  }

 private:
  int createSocket(uint16_t bindFlags) {
    xsk_umem_config ucfg{};
    ucfg.fill_size = roundPow2(rxFrames_);
    ucfg.comp_size = roundPow2(txFrames_);
    ucfg.frame_size = frameSize_;
    ucfg.frame_headroom = 0;
    ucfg.flags = 0;
    int rc = xsk_umem__create(&umemH_, umem_, umemBytes_, &fill_, &comp_, &ucfg);
    if (rc) {
      umemH_ = nullptr;
      return rc < 0 ? rc : -rc;
    }
    xsk_socket_config scfg{};
    scfg.rx_size = roundPow2(rxFrames_);
    scfg.tx_size = roundPow2(txFrames_);
    scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // our own program, attached above
    scfg.xdp_flags = attachFlags_;
    scfg.bind_flags = bindFlags;
    rc = xsk_socket__create(&xsk_, ifname_.c_str(), queue_, umemH_, &rx_, &tx_, &scfg);
    if (rc) {
      xsk_ = nullptr;
      xsk_umem__delete(umemH_);
      umemH_ = nullptr;
      return rc < 0 ? rc : -rc;
    }
    return 0;
  }

  void reclaimCompletions() {
    uint32_t idx = 0;
    uint32_t n = xsk_ring_cons__peek(&comp_, txFrames_, &idx);
    for (uint32_t i = 0; i < n; i++) txFree_.push_back(*xsk_ring_cons__comp_addr(&comp_, idx + i));
    if (n) {
      xsk_ring_cons__release(&comp_, n);
      txInFlight_.fetch_sub(n, std::memory_order_relaxed);
    }
  }

  void kickTx() {
    if (xsk_ring_prod__needs_wakeup(&tx_)) sendto(xsk_socket__fd(xsk_), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
  }

  int bpfFail(std::string* err, int e, const std::string& what) {
    if (e == EPERM || e == EACCES)
      return fail(err, EPERM, "af_xdp: " + what + ": " + strerror(e) +
                                  " (fix: run as root, or grant CAP_NET_ADMIN, CAP_BPF and CAP_NET_RAW; the af_packet and udp backends need less)");
    return fail(err, e, "af_xdp: " + what + ": " + strerror(e) + " (fix: a kernel with BPF and XDP sockets, 5.4 or newer)");
  }

  std::string ifname_, mode_, lastMode_;
  int ifindex_ = 0;
  uint32_t queue_ = 0, frameSize_ = 0, frames_ = 0, rxFrames_ = 0, txFrames_ = 0;
  uint32_t attachFlags_ = 0;
  bool zeroCopy_ = false, huge_ = false;
  uint8_t* umem_ = nullptr;
  size_t umemBytes_ = 0;
  std::vector<Region> regions_;
  int mapFd_ = -1, progFd_ = -1;
  xsk_umem* umemH_ = nullptr;
  xsk_socket* xsk_ = nullptr;
  xsk_ring_prod fill_{}, tx_{};
  xsk_ring_cons comp_{}, rx_{};
  std::vector<uint64_t> txFree_;  // poller-private stack of free TX frame addresses
  std::atomic<uint32_t> rxHeld_{0}, txInFlight_{0};
  xdp_statistics last_{};
};

}  // namespace

std::unique_ptr<Backend> createAfXdpBackend() { return std::make_unique<AfXdpBackend>(); }

}  // namespace tickpath
