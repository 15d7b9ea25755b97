// See tcp_channel.h for the threading contract and the region layout.
#include "tcp_channel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#ifndef SO_BUSY_POLL
#define SO_BUSY_POLL 46
#endif

#define tp_unlikely(x) __builtin_expect(!!(x), 0)

namespace tickpath {

namespace {

// The address and the non-blocking socket both ends start from (TcpChannel::connect,
// TcpListener::listen): the socket's fd with *sa filled in, or a negative errno with the cause and
// the fix in err.
int openIpv4Socket(const char* ipv4, uint16_t port, sockaddr_in* sa, std::string* err) {
  *sa = sockaddr_in{};
  sa->sin_family = AF_INET;
  sa->sin_port = htons(port);
  if (inet_pton(AF_INET, ipv4, &sa->sin_addr) != 1) {
    *err = std::string("not an IPv4 address: ") + ipv4 +
           " (fix: give a dotted IPv4 address such as 127.0.0.1; resolve a host name first)";
    return -EINVAL;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    *err = std::string("socket(): ") + strerror(e) + " (fix: raise the open-file limit, ulimit -n)";
    return -e;
  }
  return fd;
}

}  // namespace

TcpChannel::TcpChannel(uint32_t rxBytes, uint32_t txQueueBytes)
    : rxCap_(rxBytes),
      region_(static_cast<uint8_t*>(std::calloc(1, kTcpDataOffset + rxBytes)), [](uint8_t* p) { std::free(p); }),
      txq_(new uint8_t[txQueueBytes]),
      txCap_(txQueueBytes) {}

TcpChannel::~TcpChannel() { close(); }

void TcpChannel::fail(int err) {
  ctl()[kTcpErrnoI32] = err;
  ctl()[kTcpStateI32] = kTcpFailed;
}

void TcpChannel::setOptions(int fd, int busyPollUs) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int32_t* c = ctl();
  c[kTcpBusyPollI32] = 0;
  if (busyPollUs > 0) {
    // Optional: needs CAP_NET_ADMIN above net.core.busy_poll on some kernels; refused is reported, not fatal.
    if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &busyPollUs, sizeof busyPollUs) == 0) c[kTcpBusyPollI32] = busyPollUs;
    else c[kTcpBusyPollI32] = -errno;
  }
  txHead_ = txLen_ = 0;
  c[kTcpRxLenI32] = 0;
  c[kTcpTxQueuedI32] = 0;
  c[kTcpErrnoI32] = 0;
  // A new connection: stamps are enabled (again) once it is established, with keys from 0.
  stats_.txStampsDropped += pendHead_ - pendTail_;
  pendHead_ = pendTail_ = 0;
  txStampOn_ = false;
  c[kTcpTxStampI32] = 0;
}

void TcpChannel::wantTxStamps(bool on) {
  txStampWanted_ = on;
  if (on && fd_ >= 0 && ctl()[kTcpStateI32] == kTcpConnected && !txStampOn_) enableTxStamps();
}

void TcpChannel::enableTxStamps() {
  if (!txStampWanted_) return;
  // TX_SOFTWARE: stamp in the driver's xmit (skb_tx_timestamp; loopback and veth call it), i.e.
  // when the bytes leave this host's stack. OPT_ID: each stamp carries the byte key of the send's
  // last byte; OPT_TSONLY: the error queue gets the stamp, not a copy of the packet (no payload to
  // copy, and no privilege needed).
  int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
  int32_t* c = ctl();
  if (setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) != 0) {
    c[kTcpTxStampI32] = -errno;
    txStampOn_ = false;
    return;
  }
  txStampOn_ = true;
  streamBytes_ = 0;
  pendHead_ = pendTail_ = 0;
  calibrate();
  c[kTcpTxStampI32] = 1;
}

namespace {
int64_t clockNs(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
}  // namespace

// The kernel stamps in CLOCK_REALTIME; our stamps are CLOCK_MONOTONIC. The offset between the two
// is read as realtime, monotonic, realtime, three times, keeping the tightest bracket: the offset
// is then known to within half that bracket (clockCalErrNs, ~20-50 ns through the vDSO), plus the
// realtime clock's drift against the monotonic one since (NTP slews at most 500 ppm: 0.5 us per
// second; resampled every second while stamps come) or a step of the realtime clock (seen as a
// stamp in the future, which resamples at once).
void TcpChannel::calibrate() {
  int64_t best = INT64_MAX;
  for (int i = 0; i < 3; i++) {
    int64_t r1 = clockNs(CLOCK_REALTIME), m = clockNs(CLOCK_MONOTONIC), r2 = clockNs(CLOCK_REALTIME);
    if (r2 - r1 < best) {
      best = r2 - r1;
      monoMinusRealNs_ = m - (r1 + (r2 - r1) / 2);
      calAtNs_ = m;
    }
  }
  stats_.clockCalErrNs = best / 2 + 1;
  stats_.clockCalibrations++;
}

// After a send's bytes were accepted: the key of its last byte, to match the kernel's stamp with.
void TcpChannel::noteSend(uint32_t seq, uint32_t len) {
  streamBytes_ += len;
  if (tp_unlikely(pendHead_ - pendTail_ == kPendingSlots)) { pendTail_++; stats_.txStampsDropped++; }
  pending_[pendHead_ % kPendingSlots] = PendingSend{streamBytes_ - 1, seq};
  pendHead_++;
}

// Reads the error queue: each stamp completes every pending send whose last byte's key is at or
// below its key (one skb may carry several sends' bytes when the kernel queued them together; a
// send the kernel took in two parts is complete only with the stamp of its last byte).
void TcpChannel::drainTxStamps() {
  int32_t* c = ctl();
  double* ring = reinterpret_cast<double*>(region_.get() + kTcpStampOffset);
  alignas(cmsghdr) char control[256];
  for (int i = 0; i < 64; i++) {
    msghdr m{};
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    if (::recvmsg(fd_, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return;  // EAGAIN: empty
    const timespec* ts = nullptr;
    const sock_extended_err* ee = nullptr;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&m); cm != nullptr; cm = CMSG_NXTHDR(&m, cm)) {
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPING) {
        ts = &reinterpret_cast<const scm_timestamping*>(CMSG_DATA(cm))->ts[0];
      } else if ((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) || (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)) {
        ee = reinterpret_cast<const sock_extended_err*>(CMSG_DATA(cm));
      }
    }
    if (ts == nullptr || ee == nullptr || ee->ee_errno != ENOMSG || ee->ee_origin != SO_EE_ORIGIN_TIMESTAMPING) continue;
    int64_t real = static_cast<int64_t>(ts->tv_sec) * 1000000000 + ts->tv_nsec;
    int64_t now = clockNs(CLOCK_MONOTONIC);
    if (now - calAtNs_ > 1000000000) calibrate();
    int64_t mono = real + monoMinusRealNs_;
    if (tp_unlikely(mono > now + stats_.clockCalErrNs)) { calibrate(); mono = real + monoMinusRealNs_; }  // the realtime clock was stepped
    uint32_t key = ee->ee_data;
    bool matched = false;
    while (pendTail_ != pendHead_) {
      const PendingSend& p = pending_[pendTail_ % kPendingSlots];
      if (static_cast<int32_t>(key - p.endKey) < 0) break;  // this send's last byte is still to go
      uint32_t n = static_cast<uint32_t>(c[kTcpStampHeadI32]);
      double* slot = ring + 2 * (n % kTcpStampSlots);
      slot[0] = static_cast<double>(p.seq);
      slot[1] = static_cast<double>(mono);
      c[kTcpStampHeadI32] = static_cast<int32_t>(n + 1);
      pendTail_++;
      stats_.txStamps++;
      matched = true;
    }
    if (!matched) stats_.txStampsUnmatched++;
  }
}

int TcpChannel::adopt(int fd, int busyPollUs) {
  if (fd_ >= 0) return -EISCONN;
  setOptions(fd, busyPollUs);
  fd_ = fd;
  stats_.connects++;
  ctl()[kTcpStateI32] = kTcpConnected;
  enableTxStamps();
  return 0;
}

void TcpChannel::shutdownWrite() {
  if (fd_ < 0) return;
  if (txLen_ > 0) flush();
  ::shutdown(fd_, SHUT_WR);
}

int TcpChannel::connect(const char* ipv4, uint16_t port, int busyPollUs, std::string* err) {
  if (fd_ >= 0) {
    *err = "channel already has a socket (fix: close() before connecting again)";
    return -EISCONN;
  }
  sockaddr_in sa{};
  int fd = openIpv4Socket(ipv4, port, &sa, err);
  if (fd < 0) return fd;
  setOptions(fd, busyPollUs);
  int32_t* c = ctl();
  fd_ = fd;
  stats_.connects++;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    c[kTcpStateI32] = kTcpConnected;
    enableTxStamps();
    return 0;
  }
  if (errno == EINPROGRESS) {
    c[kTcpStateI32] = kTcpConnecting;
    return 0;
  }
  int e = errno;
  ::close(fd);
  fd_ = -1;
  fail(e);
  *err = std::string("connect(") + ipv4 + ":" + std::to_string(port) + "): " + strerror(e);
  return -e;
}

int TcpChannel::flush() {
  while (txLen_ > 0) {
    ssize_t n = ::send(fd_, txq_.get() + txHead_, txLen_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      stats_.bytesOut += static_cast<uint64_t>(n);
      txHead_ += static_cast<uint32_t>(n);
      txLen_ -= static_cast<uint32_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { stats_.wouldBlock++; break; }
    if (n < 0 && errno == EINTR) continue;
    fail(errno);
    return -errno;
  }
  if (txLen_ == 0) txHead_ = 0;
  ctl()[kTcpTxQueuedI32] = static_cast<int32_t>(txLen_);
  return 0;
}

int TcpChannel::send(const uint8_t* p, uint32_t len) {
  int32_t* c = ctl();
  if (tp_unlikely(c[kTcpStateI32] != kTcpConnected)) return c[kTcpStateI32] == kTcpFailed ? -c[kTcpErrnoI32] : -ENOTCONN;
  if (tp_unlikely(len == 0)) {
    // Zero bytes: the keep-warm's send (NativeTcpTransport.send with length 0, between orders)
    // comes through the same entry and this channel's lines a send reads, and returns here, before
    // anything a send moves: no send(2), no queue, no send seq (the TX stamps' key), no counter.
    // A zero-byte send(2) on a stream socket puts nothing on the wire either, so nothing is lost.
    (void)*static_cast<volatile const uint64_t*>(&stats_.sends);
    (void)*static_cast<volatile const uint32_t*>(&txLen_);
    return 0;
  }
  stats_.sends++;
  uint32_t seq = static_cast<uint32_t>(stats_.sends);
  c[kTcpSendSeqI32] = static_cast<int32_t>(seq);
  uint32_t written = 0;
  if (txLen_ == 0) {
    // Fast path: nothing queued, so order is kept by writing now.
    for (;;) {
      ssize_t n = ::send(fd_, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) { written = static_cast<uint32_t>(n); break; }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) { stats_.wouldBlock++; break; }
      int e = errno;
      fail(e);
      return -e;
    }
    stats_.bytesOut += written;
    if (tp_unlikely(written < len)) stats_.partialSends++;
    if (written == len) {
      // After send(2) returned: never between the caller and the wire.
      if (txStampOn_) noteSend(seq, len);
      return static_cast<int>(written);
    }
  }
  // Rare: the kernel's send buffer is full; keep the rest in order behind what is queued.
  uint32_t rest = len - written;
  if (txHead_ + txLen_ + rest > txCap_) {
    std::memmove(txq_.get(), txq_.get() + txHead_, txLen_);
    txHead_ = 0;
    if (txLen_ + rest > txCap_) {
      // The written part is in the stream (its stamp, if one comes, matches nothing pending).
      if (txStampOn_) { streamBytes_ += written; stats_.txStampsDropped++; }
      return -ENOBUFS;
    }
  }
  std::memcpy(txq_.get() + txHead_ + txLen_, p + written, rest);
  txLen_ += rest;
  if (txStampOn_) noteSend(seq, len);
  stats_.queuedSends++;
  c[kTcpTxQueuedI32] = static_cast<int32_t>(txLen_);
  return static_cast<int>(written);
}

int TcpChannel::poll(uint32_t consumed) {
  int32_t* c = ctl();
  uint8_t* data = region_.get() + kTcpDataOffset;
  int32_t have = c[kTcpRxLenI32];
  if (consumed > 0) {
    if (consumed >= static_cast<uint32_t>(have)) have = 0;
    else { have -= static_cast<int32_t>(consumed); std::memmove(data, data + consumed, static_cast<size_t>(have)); }
    c[kTcpRxLenI32] = have;
  }
  int32_t st = c[kTcpStateI32];
  if (tp_unlikely(st == kTcpConnecting)) {
    pollfd pfd{fd_, POLLOUT, 0};
    if (::poll(&pfd, 1, 0) <= 0) return have;
    int soErr = 0;
    socklen_t sl = sizeof soErr;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soErr, &sl);
    if (soErr != 0) { fail(soErr); return have; }
    c[kTcpStateI32] = st = kTcpConnected;
    enableTxStamps();
  }
  if (st != kTcpConnected) return have;
  if (tp_unlikely(txLen_ > 0) && flush() < 0) return have;
  // TX stamps, after the order went: while sends await theirs, and now and then otherwise (a stray
  // one, a retransmit's, would keep the socket's EPOLLERR up and wake a loop sleeping on it).
  if (txStampOn_ && (pendHead_ != pendTail_ || (++quietPolls_ & 255) == 0)) drainTxStamps();
  uint32_t room = rxCap_ - static_cast<uint32_t>(have);
  if (room == 0) return have;  // the caller has not parsed what it has: backpressure to the peer
  ssize_t n = ::recv(fd_, data + have, room, MSG_DONTWAIT);
  stats_.recvs++;
  if (n > 0) {
    stats_.bytesIn += static_cast<uint64_t>(n);
    have += static_cast<int32_t>(n);
    c[kTcpRxLenI32] = have;
  } else if (n == 0) {
    c[kTcpStateI32] = kTcpPeerClosed;
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    fail(errno);
  }
  return have;
}

void TcpChannel::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  txHead_ = txLen_ = 0;
  stats_.txStampsDropped += pendHead_ - pendTail_;
  pendHead_ = pendTail_ = 0;
  txStampOn_ = false;
  int32_t* c = ctl();
  if (c) {
    c[kTcpStateI32] = kTcpClosed;
    c[kTcpTxQueuedI32] = 0;
  }
}

TcpListener::~TcpListener() { close(); }

int TcpListener::listen(const char* ipv4, uint16_t port, int backlog, std::string* err) {
  if (fd_ >= 0) {
    *err = "listener already listening (fix: close() first)";
    return -EISCONN;
  }
  sockaddr_in sa{};
  int fd = openIpv4Socket(ipv4, port, &sa, err);
  if (fd < 0) return fd;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, backlog) != 0) {
    int e = errno;
    ::close(fd);
    *err = std::string("listen on ") + ipv4 + ":" + std::to_string(port) + ": " + strerror(e) +
           (e == EADDRINUSE ? " (fix: pick another port or pass 0 for an ephemeral one)"
                            : e == EADDRNOTAVAIL ? " (fix: listen on an address of this host, such as 127.0.0.1)"
                                                 : " (fix: check the address and port)");
    return -e;
  }
  socklen_t sl = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &sl);
  port_ = ntohs(sa.sin_port);
  fd_ = fd;
  return 0;
}

int TcpListener::accept(int* fd) {
  if (tp_unlikely(fd_ < 0)) return -EBADF;
  for (;;) {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) {
      accepted_++;
      *fd = c;
      return 1;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    // A connection reset before it was accepted: try the next one.
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    return -errno;
  }
}

void TcpListener::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

TcpWaitSet::TcpWaitSet() : ep_(epoll_create1(EPOLL_CLOEXEC)) {}

TcpWaitSet::~TcpWaitSet() {
  if (ep_ >= 0) ::close(ep_);
}

int TcpWaitSet::add(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = fd;
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0 || errno == EEXIST) return 0;
  return -errno;
}

// linux/eventpoll.h of older toolchains lacks these (uapi since 6.9); the layout is the kernel's.
struct TickpathEpollParams {
  uint32_t busy_poll_usecs;
  uint16_t busy_poll_budget;
  uint8_t prefer_busy_poll;
  uint8_t pad;
};
#ifndef EPIOCSPARAMS
#define EPIOCSPARAMS _IOW(0x8A, 0x01, TickpathEpollParams)
#endif

int TcpWaitSet::busyPoll(uint32_t usecs, uint16_t budget, bool prefer) {
  TickpathEpollParams p{usecs, budget, static_cast<uint8_t>(prefer ? 1 : 0), 0};
  return ioctl(ep_, EPIOCSPARAMS, &p) == 0 ? 0 : -errno;
}

int TcpWaitSet::wait(int timeoutUs, int loopFd) {
  if (loopFd >= 0 && loopFd != loopFd_) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = loopFd;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, loopFd, &ev) == 0 || errno == EEXIST) loopFd_ = loopFd;
  }
  epoll_event evs[16];
  int n;
#ifdef SYS_epoll_pwait2
  // Microsecond timeouts (Linux 5.11+): a sender whose next order is due in 300 us can sleep
  // exactly that long; ENOSYS on older kernels falls back to milliseconds, rounded up.
  static bool noPwait2 = false;
  if (!noPwait2) {
    timespec ts{timeoutUs / 1000000, static_cast<long>(timeoutUs % 1000000) * 1000};
    n = static_cast<int>(::syscall(SYS_epoll_pwait2, ep_, evs, 16, &ts, nullptr, 0));
    if (n < 0 && errno == ENOSYS) noPwait2 = true;
  }
  if (noPwait2)
#endif
    n = epoll_wait(ep_, evs, 16, (timeoutUs + 999) / 1000);
  if (n < 0) return errno == EINTR ? 2 : -errno;
  int r = 0;
  for (int i = 0; i < n; i++) r |= evs[i].data.fd == loopFd_ ? 2 : 1;
  return r;
}

}  // namespace tickpath
