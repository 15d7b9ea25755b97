// af_packet backend: a TPACKET_V3 memory-mapped RX ring on one interface, zero-copy into JS.
//
// The kernel writes packets into blocks of the mmap'd ring; that mapping is the Region JS reads, so
// a descriptor points straight at the kernel's copy of the frame. A block goes back to the kernel
// (TP_STATUS_KERNEL) only when every packet in it has been released: each handle is the block
// index, and a per-block count of outstanding packets reaches zero on the last release. Handles come
// back in ring order, so blocks return in the order the kernel filled them.
//
// Framing: descriptors start at the Ethernet header. The kernel strips a VLAN tag into metadata;
// it comes back as aux = 0x10000 | TCI (aux = 0 when untagged).
// Timestamps: hardware (kRxFlagTsHw, the NIC's raw clock) when the NIC stamps and option
// timestamps=hw, else the kernel's software time (kRxFlagTsSw) converted from CLOCK_REALTIME to
// CLOCK_MONOTONIC like every descriptor; without stamps, the poll time (kRxFlagTsPoll).
// TX: sendmmsg on the same socket (frames are whole Ethernet frames, at most MTU + 18 bytes; a
// frame the kernel refuses is reported as a negative errno and counted by the Port). Outgoing packets are not
// captured (PACKET_IGNORE_OUTGOING), so a port does not hear its own TX.
//
// Threading: rxBurst/release/txBurst from the queue's poller; deviceStats (PACKET_STATISTICS, which
// resets the kernel's counters on read) from the JS thread under statsMutex_.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "backend.h"
#include "platform.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace tickpath {
namespace {

constexpr uint16_t kMaxBurst = 512;

class AfPacketBackend final : public Backend {
 public:
  ~AfPacketBackend() override { close(); }

  int open(const Options& o, std::string* err) override {
    ifname_ = optString(o, "interface", "");
    if (ifname_.empty()) return fail(err, EINVAL, "af_packet backend needs option 'interface' (fix: name one from `ip link`)");
    ifindex_ = static_cast<int>(if_nametoindex(ifname_.c_str()));
    if (!ifindex_)
      return fail(err, ENODEV, "af_packet: no network interface '" + ifname_ + "' (fix: list interfaces with `ip link`)");
    blockSize_ = static_cast<uint32_t>(optInt(o, "block_size", 1 << 20));
    blockCount_ = static_cast<uint32_t>(optInt(o, "block_count", 16));
    frameSize_ = static_cast<uint32_t>(optInt(o, "frame_size", 2048));
    long long retireUs = optInt(o, "retire_us", 1000);
    long long fanout = optInt(o, "fanout", -1);
    bool promisc = optBool(o, "promiscuous", false);
    std::string ts = optString(o, "timestamps", "sw");
    long page = sysconf(_SC_PAGESIZE);
    if (blockSize_ < static_cast<uint32_t>(page) || (blockSize_ & (page - 1)) || (blockSize_ & (blockSize_ - 1)))
      return fail(err, EINVAL, "af_packet option block_size=" + std::to_string(blockSize_) + ": expected a power of two multiple of the page size (" + std::to_string(page) + ")");
    if (blockCount_ < 2 || blockCount_ > 65536)
      return fail(err, EINVAL, "af_packet option block_count=" + std::to_string(blockCount_) + ": expected 2..65536");
    if (frameSize_ < 128 || frameSize_ > blockSize_ || (frameSize_ % TPACKET_ALIGNMENT))
      return fail(err, EINVAL, "af_packet option frame_size=" + std::to_string(frameSize_) + ": expected a multiple of 16 between 128 and block_size");
    if (retireUs < 0) return fail(err, EINVAL, "af_packet option retire_us=" + std::to_string(retireUs) + ": expected >= 0");
    if (fanout > 0xffff) return fail(err, EINVAL, "af_packet option fanout=" + std::to_string(fanout) + ": expected a group id 0..65535");
    if (ts != "none" && ts != "sw" && ts != "hw")
      return fail(err, EINVAL, "af_packet option timestamps='" + ts + "': expected none, sw or hw");

    // Protocol 0 until the ring exists, so no packet is queued to a socket without a ring.
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      if (errno == EPERM || errno == EACCES)
        return fail(err, EPERM, "af_packet needs root or CAP_NET_RAW (fix: run as root, or `setcap cap_net_raw+ep $(readlink -f $(which node))`; the udp backend needs neither)");
      return fail(err, errno, std::string("cannot create packet socket: ") + strerror(errno));
    }
    int v = TPACKET_V3;
    if (setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &v, sizeof v) != 0)
      return fail(err, errno, std::string("PACKET_VERSION TPACKET_V3 failed: ") + strerror(errno) + " (fix: kernel 3.2 or newer)");
    int one = 1;
    setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);  // best effort (4.20+)
    if (ts == "hw") {
      int req = SOF_TIMESTAMPING_RAW_HARDWARE;
      if (setsockopt(fd_, SOL_PACKET, PACKET_TIMESTAMP, &req, sizeof req) != 0) ts = "sw";
    }
    tsMode_ = ts;
    tsOn_ = ts != "none";

    tpacket_req3 req{};
    req.tp_block_size = blockSize_;
    req.tp_block_nr = blockCount_;
    req.tp_frame_size = frameSize_;
    req.tp_frame_nr = static_cast<unsigned>((static_cast<uint64_t>(blockSize_) * blockCount_) / frameSize_);
    // The kernel's retire timer has millisecond resolution: round up, 0 = the kernel's own choice.
    req.tp_retire_blk_tov = static_cast<unsigned>((retireUs + 999) / 1000);
    req.tp_feature_req_word = 0;
    if (setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
      return fail(err, errno, "PACKET_RX_RING (" + std::to_string(blockCount_) + " x " + std::to_string(blockSize_) + " B) failed: " +
                                  strerror(errno) + " (fix: smaller block_size/block_count, or raise the memlock limit)");
    ringBytes_ = static_cast<size_t>(blockSize_) * blockCount_;
    void* m = mmap(nullptr, ringBytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd_, 0);
    if (m == MAP_FAILED) m = mmap(nullptr, ringBytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (m == MAP_FAILED) return fail(err, errno, std::string("cannot map the packet ring: ") + strerror(errno));
    ring_ = static_cast<uint8_t*>(m);
    size_t len = ringBytes_;
    // The mapping outlives close() while JS views of it exist, and the socket lives as long as the
    // mapping (closing a packet socket whose ring is still mapped makes the kernel complain).
    int fd = fd_;
    regions_.push_back(Region{m, len, false, std::shared_ptr<void>(m, [len, fd](void* p) {
                                munmap(p, len);
                                ::close(fd);
                              })});
    outstanding_.assign(blockCount_, 0);

    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex_;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
      return fail(err, errno, "cannot bind packet socket to '" + ifname_ + "': " + strerror(errno));
    if (promisc) {
      packet_mreq mr{};
      mr.mr_ifindex = ifindex_;
      mr.mr_type = PACKET_MR_PROMISC;
      if (setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0)
        return fail(err, errno, std::string("cannot make '") + ifname_ + "' promiscuous: " + strerror(errno));
    }
    if (fanout >= 0) {
      int arg = static_cast<int>(fanout) | (PACKET_FANOUT_HASH << 16);
      if (setsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0)
        return fail(err, errno, "PACKET_FANOUT group " + std::to_string(fanout) + " failed: " + strerror(errno) +
                                    " (fix: every socket in a fanout group must use the same interface and mode; pick another group id)");
    }
    ifreq ifr{};
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname_.c_str());
    int mtu = ioctl(fd_, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : 1500;
    txMaxFrame_ = static_cast<uint32_t>(mtu) + ETH_HLEN + 4;
    txMsgs_.resize(kMaxBurst);
    txIov_.resize(kMaxBurst);
    desc_ = "af_packet " + ifname_ + " TPACKET_V3 " + std::to_string(blockCount_) + " x " + std::to_string(blockSize_) +
            " B blocks, retire " + std::to_string(req.tp_retire_blk_tov) + " ms, timestamps " + tsMode_ +
            (fanout >= 0 ? ", fanout hash group " + std::to_string(fanout) : "") + (promisc ? ", promiscuous" : "");
    return 0;
  }

  uint16_t rxQueues() const override { return 1; }
  const std::vector<Region>& regions() const override { return regions_; }

  uint16_t rxBurst(uint16_t q, RxDesc* d, uintptr_t* h, uint16_t max) override {
    uint16_t n = 0;
    uint64_t pollNs = 0;        // read once per burst, on the first packet (an idle poll reads no clock)
    int64_t realtimeOffset = 0;
    while (n < max) {
      if (left_ == 0) {
        // Next block: the kernel hands it over by setting TP_STATUS_USER (acquire pairs with its
        // release), and it stays ours until we store TP_STATUS_KERNEL.
        if (blocksHeld_ == blockCount_) break;  // every block is waiting on the consumer
        auto* bd = block(cur_);
        if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
        left_ = bd->hdr.bh1.num_pkts;
        next_ = bd->hdr.bh1.offset_to_first_pkt;
        blocksHeld_++;
        if (__builtin_expect(left_ == 0, 0)) {  // an empty retired block: straight back
          returnBlock(cur_);
          advance();
          continue;
        }
        outstanding_[cur_] = left_;
        walking_ = cur_;
        advance();
      }
      const uint8_t* blockBase = ring_ + static_cast<size_t>(walking_) * blockSize_;
      const auto* p = reinterpret_cast<const tpacket3_hdr*>(blockBase + next_);
      if (pollNs == 0) {
        pollNs = monotonicNs();
        realtimeOffset = realtimeOffsetNs();
      }
      uint16_t flags = kRxFlagTsPoll;
      uint64_t ts = pollNs;
      if (tsOn_ && (p->tp_sec || p->tp_nsec)) {
        ts = static_cast<uint64_t>(p->tp_sec) * 1000000000ull + p->tp_nsec;
        if (p->tp_status & TP_STATUS_TS_RAW_HARDWARE) {
          flags = kRxFlagTsHw;
        } else {
          ts -= realtimeOffset;
          flags = kRxFlagTsSw;
        }
      }
      if (p->tp_snaplen < p->tp_len) flags |= kRxFlagTruncated;
      uint32_t aux = (p->tp_status & TP_STATUS_VLAN_VALID) ? (0x10000u | p->hv1.tp_vlan_tci) : 0;
      d[n] = RxDesc{static_cast<uint32_t>(blockBase - ring_) + next_ + p->tp_mac, 0, flags, p->tp_snaplen, p->tp_len,
                    static_cast<uint32_t>(ts), static_cast<uint32_t>(ts >> 32), q, aux};
      h[n] = walking_;
      n++;
      next_ += p->tp_next_offset;
      left_--;
    }
    return n;
  }

  void release(uint16_t, const uintptr_t* h, uint16_t n) override {
    for (uint16_t i = 0; i < n; i++) {
      uint32_t b = static_cast<uint32_t>(h[i]);
      if (--outstanding_[b] == 0 && !(b == walking_ && left_ > 0)) returnBlock(b);
    }
  }

  int txBurst(uint16_t, const TxFrame* f, uint16_t n) override {
    uint16_t m = std::min<uint16_t>(n, kMaxBurst);
    for (uint16_t i = 0; i < m; i++) {
      txIov_[i] = iovec{const_cast<uint8_t*>(f[i].data), f[i].len};
      txMsgs_[i].msg_hdr = msghdr{nullptr, 0, &txIov_[i], 1, nullptr, 0, 0};
    }
    int sent = sendmmsg(fd_, txMsgs_.data(), m, MSG_DONTWAIT);
    // sendmmsg fails only when the first message fails; a later failure shortens the count.
    if (sent < 0) return errno == EAGAIN || errno == ENOBUFS ? 0 : -errno;  // else refused for good
    return sent;
  }

  uint32_t txMaxFrame() const override { return txMaxFrame_; }

  void deviceStats(DeviceStats* out) override {
    std::lock_guard<std::mutex> lock(statsMutex_);
    if (fd_ >= 0) {
      tpacket_stats_v3 st{};
      socklen_t len = sizeof st;
      if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
        drops_ += st.tp_drops;
        freezeQ_ += st.tp_freeze_q_cnt;
      }
    }
    out->kernelDrops = drops_;
    out->poolSize = blockCount_;
    out->poolFree = blockCount_ - blocksHeld_;
  }

  void close() override {
    if (fd_ >= 0) {
      DeviceStats last;
      deviceStats(&last);  // fold the final kernel counters in before the socket goes deaf
      // Stop hearing the interface; the descriptor itself closes with the last view of the ring.
      sockaddr_ll sll{};
      sll.sll_family = AF_PACKET;
      sll.sll_protocol = 0;
      sll.sll_ifindex = ifindex_;
      bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll);
      if (regions_.empty()) ::close(fd_);
      regions_.clear();
    }
    fd_ = -1;
  }

  std::string describe() const override { return desc_; }

 private:
  tpacket_block_desc* block(uint32_t b) const {
    return reinterpret_cast<tpacket_block_desc*>(ring_ + static_cast<size_t>(b) * blockSize_);
  }
  void advance() { cur_ = cur_ + 1 == blockCount_ ? 0 : cur_ + 1; }
  void returnBlock(uint32_t b) {
    __atomic_store_n(&block(b)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    blocksHeld_--;
  }

  std::string ifname_, tsMode_, desc_;
  bool tsOn_ = true;
  int ifindex_ = 0;
  int fd_ = -1;
  uint32_t blockSize_ = 0, blockCount_ = 0, frameSize_ = 0;
  size_t ringBytes_ = 0;
  uint8_t* ring_ = nullptr;
  std::vector<Region> regions_;
  // Poller-private walk state: cur_ = next block to take from the kernel; walking_ = block whose
  // packets are being handed out (left_ of them remain, next_ = offset of the next one).
  uint32_t cur_ = 0, walking_ = 0, left_ = 0, next_ = 0;
  uint32_t blocksHeld_ = 0;
  std::vector<uint32_t> outstanding_;  // per block: packets handed out and not yet released
  std::vector<mmsghdr> txMsgs_;
  std::vector<iovec> txIov_;
  std::mutex statsMutex_;
  uint64_t drops_ = 0, freezeQ_ = 0;
  uint32_t txMaxFrame_ = 0;  // MTU + Ethernet header + one VLAN tag, the most the kernel accepts
};

}  // namespace

std::unique_ptr<Backend> createAfPacketBackend() { return std::make_unique<AfPacketBackend>(); }

}  // namespace tickpath
