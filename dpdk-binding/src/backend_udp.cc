// udp backend: a kernel UDP socket, for hosts without root, DPDK or XDP.
//
// recvmmsg writes datagrams straight into the slots of one anonymous shared-memory region (the
// Region JS maps): slot i of the region belongs to ring handle i, so JS reads each datagram where
// the kernel copied it, with no copy of ours. Slots are handed out and released strictly in order
// (Port releases in ring order), so the free slots are one FIFO: [released, filled).
//
// Lines: option 'lines' ("group:port[/source],group:port...", up to 64) opens one socket per line,
// each bound to its group and port and joined to it, polled in turn into the same slot FIFO; each
// descriptor's aux carries the line's index in that list (aux = kUdpAuxL4Payload | index << 8), so
// a consumer can tell MOEX or MoldUDP64 A/B lines apart without headers. Without 'lines', one
// socket from 'port'/'group'/'source' (line 0).
//
// Framing: a udp descriptor's bytes are the UDP PAYLOAD: no Ethernet, IP or UDP header. Every udp
// descriptor carries aux = kUdpAuxL4Payload (1) so a consumer that also reads Ethernet backends
// knows which framing it has (pcap/af_packet/af_xdp/dpdk descriptors start at the Ethernet header).
//
// Timestamps: SO_TIMESTAMPING; the kernel's software RX time (kRxFlagTsSw, converted from
// CLOCK_REALTIME to CLOCK_MONOTONIC like every descriptor), else the poll time (kRxFlagTsPoll), or
// the NIC's raw hardware time when the device offers one (kRxFlagTsHw).
// Kernel drops (socket buffer overflow): SO_RXQ_OVFL's running count, as DeviceStats.kernelDrops.
//
// Threading: rxBurst/release/txBurst from the queue's poller only; deviceStats reads relaxed atomics.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend.h"
#include "platform.h"
#include "port.h"

namespace tickpath {
namespace {

constexpr uint32_t kUdpAuxL4Payload = 1;
constexpr uint16_t kMaxBurst = 512;
constexpr size_t kMaxLines = 64;
constexpr size_t kCtrlBytes = CMSG_SPACE(sizeof(scm_timestamping)) + CMSG_SPACE(sizeof(uint32_t)) + 64;

std::string sysctlValue(const char* path) {
  FILE* f = fopen(path, "r");
  if (!f) return "?";
  char buf[64] = {0};
  if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
  fclose(f);
  std::string s(buf);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// "eth0" or "192.0.2.1" -> ifindex and IPv4 address. Returns false when no such interface.
bool resolveInterface(const std::string& name, int* ifindex, in_addr* addr) {
  in_addr a{};
  bool byAddr = inet_pton(AF_INET, name.c_str(), &a) == 1;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    in_addr ia = reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr;
    if (byAddr ? ia.s_addr == a.s_addr : name == i->ifa_name) {
      *ifindex = static_cast<int>(if_nametoindex(i->ifa_name));
      *addr = ia;
      found = true;
    }
  }
  freeifaddrs(list);
  if (!found && !byAddr) {  // an interface with no IPv4 address still has an index
    unsigned idx = if_nametoindex(name.c_str());
    if (idx) {
      *ifindex = static_cast<int>(idx);
      addr->s_addr = htonl(INADDR_ANY);
      found = true;
    }
  }
  return found;
}

bool parseHostPort(const std::string& s, sockaddr_in* out) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = s.substr(0, colon), port = s.substr(colon + 1);
  char* end = nullptr;
  long p = strtol(port.c_str(), &end, 10);
  if (!end || *end || p <= 0 || p > 65535) return false;
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons(static_cast<uint16_t>(p));
  if (inet_pton(AF_INET, host.c_str(), &out->sin_addr) == 1) return true;
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return false;
  out->sin_addr = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
  freeaddrinfo(res);
  return true;
}

class UdpBackend final : public Backend {
 public:
  ~UdpBackend() override { close(); }

  // One line's socket: options, bind, multicast join. Returns 0 or a negative errno (err set).
  int setupSocket(int fd, uint16_t port, const std::string& bindAddr, in_addr bindIn, const std::string& group, in_addr groupAddr,
                  const std::string& source, in_addr sourceAddr, const std::string& iface, int ifindex, in_addr ifAddr,
                  long long rcvbuf, long long busyPoll, const std::string& ts, std::string* err) {
        int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // several feeds may share a group port
    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);

    // Receive buffer: the kernel caps SO_RCVBUF at net.core.rmem_max; root may exceed it.
    if (rcvbuf > 0) {
      int want = static_cast<int>(std::min<long long>(rcvbuf, 1 << 30));
      if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
      int got = 0;
      socklen_t gl = sizeof got;
      getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
      rcvbufGot_ = got;
      if (got < want)  // the kernel reports double what it was given when uncapped
        warning_ = "rcvbuf " + std::to_string(want) + " capped to " + std::to_string(got / 2) +
                   " by net.core.rmem_max=" + sysctlValue("/proc/sys/net/core/rmem_max") +
                   " (fix: sysctl -w net.core.rmem_max=" + std::to_string(want) + ")";
    } else {
      int got = 0;
      socklen_t gl = sizeof got;
      getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
      rcvbufGot_ = got;
    }
    if (busyPoll > 0) {
      int us = static_cast<int>(busyPoll);
      if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof us) != 0)
        warning_ += std::string(warning_.empty() ? "" : "; ") + "busy_poll_us ignored: " + strerror(errno) +
                    " (fix: raising it above net.core.busy_poll needs CAP_NET_ADMIN)";
    }
    if (ts != "none") {
      int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
      if (ts == "hw") flags |= SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE;
      if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) != 0)
        return fail(err, errno, std::string("SO_TIMESTAMPING failed: ") + strerror(errno) + " (fix: pass timestamps=none)");
    }

    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr = bindIn;
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      return fail(err, errno, "cannot bind UDP " + bindAddr + ":" + std::to_string(port) + ": " + strerror(errno) +
                                  (errno == EADDRNOTAVAIL ? " (fix: bind an address this host has, see `ip addr`)"
                                   : errno == EACCES    ? " (fix: ports below 1024 need root or CAP_NET_BIND_SERVICE)"
                                                        : ""));
    
    if (!group.empty()) {
      int rc;
      if (source.empty()) {
        ip_mreqn m{};
        m.imr_multiaddr = groupAddr;
        m.imr_address = ifAddr;
        m.imr_ifindex = ifindex;
        rc = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m);
      } else {
        ip_mreq_source m{};
        m.imr_multiaddr = groupAddr;
        m.imr_interface = ifAddr;
        m.imr_sourceaddr = sourceAddr;
        rc = setsockopt(fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &m, sizeof m);
      }
      if (rc != 0)
        return fail(err, errno, "cannot join multicast group " + group + (source.empty() ? "" : " source " + source) +
                                    (iface.empty() ? "" : " on " + iface) + ": " + strerror(errno) +
                                    " (fix: give option 'interface' naming the interface that has a multicast route, see `ip route get " + group + "`)");
      if (ifindex) {
        ip_mreqn m{};
        m.imr_address = ifAddr;
        m.imr_ifindex = ifindex;
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
      }
    }
    return 0;
  }

  int open(const Options& o, std::string* err) override {
    std::string bindOpt = optString(o, "bind", "");
    std::string iface = optString(o, "interface", "");
    long long rcvbuf = optInt(o, "rcvbuf", 0), busyPoll = optInt(o, "busy_poll_us", 0);
    slots_ = static_cast<uint32_t>(optInt(o, "slots", 4096));
    slotBytes_ = static_cast<uint32_t>(optInt(o, "slot_bytes", 2048));
    std::string txDest = optString(o, "tx_dest", "");
    std::string ts = optString(o, "timestamps", "sw");
    std::string lines = optString(o, "lines", "");

    if (slots_ < 16 || slots_ > (1u << 20))
      return fail(err, EINVAL, "udp option slots=" + std::to_string(slots_) + ": expected 16..1048576");
    if (slotBytes_ < 64 || slotBytes_ > 65536)
      return fail(err, EINVAL, "udp option slot_bytes=" + std::to_string(slotBytes_) + ": expected 64..65536");
    if (ts != "none" && ts != "sw" && ts != "hw")
      return fail(err, EINVAL, "udp option timestamps='" + ts + "': expected none, sw or hw");
    in_addr ifAddr{};
    int ifindex = 0;
    if (!iface.empty() && !resolveInterface(iface, &ifindex, &ifAddr))
      return fail(err, ENODEV, "udp option interface='" + iface + "': no such interface or address (fix: list them with `ip addr`)");
    if (!txDest.empty() && !parseHostPort(txDest, &txDest_))
      return fail(err, EINVAL, "udp option tx_dest='" + txDest + "': expected host:port");
    hasTxDest_ = !txDest.empty();

    // The lines: "group:port[/source]" entries, or the single port/group/source options.
    struct LineSpec { std::string group, source, port; };
    std::vector<LineSpec> specs;
    if (!lines.empty()) {
      size_t at = 0;
      while (at <= lines.size()) {
        size_t comma = lines.find(',', at);
        std::string e = lines.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        size_t colon = e.find(':'), slash = e.find('/');
        if (colon == std::string::npos)
          return fail(err, EINVAL, "udp option lines entry '" + e + "': expected group:port or group:port/source");
        LineSpec l;
        l.group = e.substr(0, colon);
        l.port = e.substr(colon + 1, slash == std::string::npos ? std::string::npos : slash - colon - 1);
        if (slash != std::string::npos) l.source = e.substr(slash + 1);
        specs.push_back(l);
        if (comma == std::string::npos) break;
        at = comma + 1;
      }
      if (specs.size() > kMaxLines)
        return fail(err, EINVAL, "udp option lines: " + std::to_string(specs.size()) + " lines, at most " + std::to_string(kMaxLines));
    } else {
      specs.push_back(LineSpec{optString(o, "group", ""), optString(o, "source", ""), optString(o, "port", "")});
    }

    desc_ = "udp";
    for (size_t i = 0; i < specs.size(); i++) {
      const LineSpec& l = specs[i];
      char* end = nullptr;
      long long port = l.port.empty() ? -1 : strtoll(l.port.c_str(), &end, 10);
      if (port < 0 || port > 65535 || (end && *end))
        return fail(err, EINVAL, "udp backend needs option 'port' (0-65535)" + std::string(lines.empty() ? "" : " in each lines entry") + ", got '" + l.port + "'");
      in_addr groupAddr{}, sourceAddr{}, bindIn{};
      if (!l.group.empty() && (inet_pton(AF_INET, l.group.c_str(), &groupAddr) != 1 || !IN_MULTICAST(ntohl(groupAddr.s_addr))))
        return fail(err, EINVAL, "udp option group='" + l.group + "': expected an IPv4 multicast address (224.0.0.0/4)");
      if (!l.source.empty() && (l.group.empty() || inet_pton(AF_INET, l.source.c_str(), &sourceAddr) != 1))
        return fail(err, EINVAL, "udp option source='" + l.source + "': expected an IPv4 address, together with option 'group'");
      // A group socket binds its group, so it hears only that group: that is what keeps lines apart.
      std::string bindAddr = !lines.empty() && !l.group.empty() ? l.group : !bindOpt.empty() ? bindOpt : l.group.empty() ? "0.0.0.0" : l.group;
      if (inet_pton(AF_INET, bindAddr.c_str(), &bindIn) != 1)
        return fail(err, EINVAL, "udp option bind='" + bindAddr + "': expected an IPv4 address");
      int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0) return fail(err, errno, std::string("cannot create UDP socket: ") + strerror(errno));
      fds_.push_back(fd);
      int rc = setupSocket(fd, static_cast<uint16_t>(port), bindAddr, bindIn, l.group, groupAddr, l.source, sourceAddr,
                           iface, ifindex, ifAddr, rcvbuf, busyPoll, ts, err);
      if (rc != 0) return rc;
      sockaddr_in sa{};
      socklen_t sl = sizeof sa;
      getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &sl);
      if (i == 0) port_ = ntohs(sa.sin_port);
      desc_ += std::string(i == 0 ? " " : "; line " + std::to_string(i) + " ") + bindAddr + ":" + std::to_string(ntohs(sa.sin_port)) +
               (l.group.empty() ? "" : " group " + l.group + (l.source.empty() ? "" : " source " + l.source));
    }
    fd_ = fds_[0];
    desc_ += (iface.empty() ? "" : " on " + iface) + ", rcvbuf " + std::to_string(rcvbufGot_) + ", " +
             std::to_string(slots_) + " slots of " + std::to_string(slotBytes_) + " B, timestamps " + ts +
             (hasTxDest_ ? ", tx to " + txDest : "") + (fds_.size() > 1 ? ", " + std::to_string(fds_.size()) + " line sockets" : "");

    // Slot memory: the region JS maps; allocated once, recvmmsg writes into it.
    void* mem = nullptr;
    auto owner = mapShared(static_cast<size_t>(slots_) * slotBytes_, false, &mem, err);
    if (!owner) return -ENOMEM;
    slotMem_ = static_cast<uint8_t*>(mem);
    regions_.push_back(Region{mem, static_cast<size_t>(slots_) * slotBytes_, false, owner});
    ctrl_.assign(static_cast<size_t>(kMaxBurst) * kCtrlBytes, 0);
    txMsgs_.resize(kMaxBurst);
    txIov_.resize(kMaxBurst);
    return 0;
  }

  uint16_t rxQueues() const override { return 1; }
  const std::vector<Region>& regions() const override { return regions_; }

  uint16_t rxBurst(uint16_t q, RxDesc* d, uintptr_t* h, uint16_t max) override {
    uint32_t free = slots_ - (filled_ - released_);
    uint32_t n = std::min<uint32_t>({static_cast<uint32_t>(max), free, static_cast<uint32_t>(kMaxBurst)});
    if (__builtin_expect(n == 0, 0)) return 0;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t slot = head_ + i < slots_ ? head_ + i : head_ + i - slots_;
      iov_[i] = iovec{slotMem_ + static_cast<size_t>(slot) * slotBytes_, slotBytes_};
      msgs_[i].msg_hdr = msghdr{nullptr, 0, &iov_[i], 1, ctrl_.data() + i * kCtrlBytes, kCtrlBytes, 0};
    }
    // Each line's socket in turn, a share of the burst at a time (starting one further each burst):
    // A and B copies of one datagram reach the arbiter close together, and no line starves another.
    const uint32_t nfd = static_cast<uint32_t>(fds_.size());
    int got = 0;
    for (bool progress = true; progress && static_cast<uint32_t>(got) < n;) {
      progress = false;
      const uint32_t share = nfd == 1 ? n : std::max<uint32_t>(8, (n - got) / nfd);
      for (uint32_t k = 0; k < nfd && static_cast<uint32_t>(got) < n; k++) {
        uint32_t line = rr_ + k < nfd ? rr_ + k : rr_ + k - nfd;
        int g = recvmmsg(fds_[line], msgs_ + got, std::min<uint32_t>(share, n - got), MSG_DONTWAIT | MSG_TRUNC, nullptr);
        if (g <= 0) continue;
        for (int i = got; i < got + g; i++) lineOf_[i] = static_cast<uint8_t>(line);
        got += g;
        progress = nfd > 1;
      }
    }
    if (++rr_ >= nfd) rr_ = 0;
    if (got <= 0) return 0;
    const uint64_t pollNs = monotonicNs();
    const int64_t realtimeOffset = realtimeOffsetNs();
    for (int i = 0; i < got; i++) {
      uint32_t slot = head_ + i < slots_ ? head_ + i : head_ + i - slots_;
      uint32_t wire = msgs_[i].msg_len;  // MSG_TRUNC: the datagram's real length
      uint32_t len = std::min(wire, slotBytes_);
      uint16_t flags = kRxFlagL4Payload | (len < wire ? kRxFlagTruncated : 0);
      uint64_t tsNs = 0;
      {
        for (cmsghdr* c = CMSG_FIRSTHDR(&msgs_[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs_[i].msg_hdr, c)) {
          if (c->cmsg_level != SOL_SOCKET) continue;
          if (c->cmsg_type == SO_TIMESTAMPING) {
            scm_timestamping t;
            memcpy(&t, CMSG_DATA(c), sizeof t);
            if (t.ts[2].tv_sec || t.ts[2].tv_nsec) {
              tsNs = t.ts[2].tv_sec * 1000000000ull + t.ts[2].tv_nsec;
              flags |= kRxFlagTsHw;
            } else if (t.ts[0].tv_sec || t.ts[0].tv_nsec) {
              tsNs = t.ts[0].tv_sec * 1000000000ull + t.ts[0].tv_nsec - realtimeOffset;
              flags |= kRxFlagTsSw;
            }
          } else if (c->cmsg_type == SO_RXQ_OVFL) {
            uint32_t drops;
            memcpy(&drops, CMSG_DATA(c), sizeof drops);
            // Each socket counts its own overflows: the device's figure is their sum.
            uint64_t sum = kernelDrops_.load(std::memory_order_relaxed) - lineDrops_[lineOf_[i]] + drops;
            lineDrops_[lineOf_[i]] = drops;
            kernelDrops_.store(sum, std::memory_order_relaxed);
          }
        }
      }
      if (tsNs == 0) {
        tsNs = pollNs;
        flags |= kRxFlagTsPoll;
      }
      d[i] = RxDesc{slot * slotBytes_, 0, flags, len, wire, static_cast<uint32_t>(tsNs),
                    static_cast<uint32_t>(tsNs >> 32), q, kUdpAuxL4Payload | (static_cast<uint32_t>(lineOf_[i]) << 8)};
      h[i] = slot;
    }
    filled_ += got;
    head_ += got;
    if (head_ >= slots_) head_ -= slots_;
    return static_cast<uint16_t>(got);
  }

  // Handles come back in the order rxBurst gave them, so the free slots stay one FIFO.
  void release(uint16_t, const uintptr_t*, uint16_t n) override { released_ += n; }

  int txBurst(uint16_t, const TxFrame* f, uint16_t n) override {
    if (!hasTxDest_) return n;  // nowhere to send: consumed and counted, like net_null
    uint16_t m = std::min<uint16_t>(n, kMaxBurst);
    for (uint16_t i = 0; i < m; i++) {
      txIov_[i] = iovec{const_cast<uint8_t*>(f[i].data), f[i].len};
      txMsgs_[i].msg_hdr = msghdr{&txDest_, sizeof txDest_, &txIov_[i], 1, nullptr, 0, 0};
    }
    int sent = sendmmsg(fd_, txMsgs_.data(), m, MSG_DONTWAIT);
    // sendmmsg fails only when the first message fails: EAGAIN/ENOBUFS are retried on the next
    // poll; anything else (unreachable, too long) refuses that datagram for good.
    if (sent < 0) return errno == EAGAIN || errno == ENOBUFS ? 0 : -errno;
    return sent;
  }

  // The largest UDP payload over IPv4 (65535 - 20 - 8).
  uint32_t txMaxFrame() const override { return 65507; }

  void deviceStats(DeviceStats* out) override {
    out->kernelDrops = kernelDrops_.load(std::memory_order_relaxed);
    out->poolSize = slots_;
    out->poolFree = slots_ - (filled_ - released_);
  }

  void close() override {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
    fd_ = -1;
  }

  std::string describe() const override { return desc_ + (warning_.empty() ? "" : "; WARNING: " + warning_); }

 private:
  int fd_ = -1;                 // line 0's socket: the one txBurst sends on
  std::vector<int> fds_;         // one socket per line, in the order of option 'lines'
  uint32_t rr_ = 0;              // the line whose socket the next burst reads first
  uint8_t lineOf_[kMaxBurst];
  uint32_t lineDrops_[kMaxLines] = {};  // SO_RXQ_OVFL's last count per line's socket
  uint16_t port_ = 0;
  uint32_t slots_ = 0, slotBytes_ = 0;
  uint8_t* slotMem_ = nullptr;
  uint32_t filled_ = 0, released_ = 0;  // poller-private FIFO positions over the slots
  uint32_t head_ = 0;                   // slot the next datagram goes to
  int rcvbufGot_ = 0;
  std::string desc_, warning_;
  std::vector<Region> regions_;
  mmsghdr msgs_[kMaxBurst];
  iovec iov_[kMaxBurst];
  std::vector<uint8_t> ctrl_;
  std::vector<mmsghdr> txMsgs_;
  std::vector<iovec> txIov_;
  sockaddr_in txDest_{};
  bool hasTxDest_ = false;
  std::atomic<uint64_t> kernelDrops_{0};
};

}  // namespace

std::unique_ptr<Backend> createUdpBackend() { return std::make_unique<UdpBackend>(); }

}  // namespace tickpath
