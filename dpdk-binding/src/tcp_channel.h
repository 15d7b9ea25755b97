// One TCP connection owned by the thread that calls it: the router's pinned thread, not
// libuv. Non-blocking socket, TCP_NODELAY, optional SO_BUSY_POLL; sends go straight to the kernel
// from the caller's hot loop, receives are polled once per loop turn into a buffer JS maps once
// (a SharedArrayBuffer over `region()`), so the SoupBinTCP and FIX codecs read frames in place.
//
// Threading: no threads. Every call runs on the calling thread; one thread owns a channel at a
// time (the glue never calls a channel from two threads at once).
//
// Region layout: a 64-byte control line of int32 words (kTcp*I32), the TX stamp ring (below), then
// the receive bytes at kTcpDataOffset. Unread bytes always start at kTcpDataOffset: poll(consumed) drops the bytes the
// caller has parsed and moves the unparsed tail (a partial frame, a few bytes) to the front.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tickpath {

// Control words (int32 index into the region). Single writer: the channel (owning thread).
constexpr int kTcpStateI32 = 0;      // TcpState
constexpr int kTcpErrnoI32 = 1;      // errno of the last failure (connect, send, recv), 0 = none
constexpr int kTcpRxLenI32 = 2;      // unread bytes at kTcpDataOffset
constexpr int kTcpTxQueuedI32 = 3;   // bytes waiting in the native outbound queue (backpressure)
constexpr int kTcpBusyPollI32 = 4;   // SO_BUSY_POLL: microseconds set, 0 = not asked, -errno = refused
constexpr int kTcpTxStampI32 = 5;    // SO_TIMESTAMPING TX software: 1 = on, 0 = not asked, -errno = refused
constexpr int kTcpSendSeqI32 = 6;    // send() calls so far (uint32, wraps): the seq of the last one
constexpr int kTcpStampHeadI32 = 7;  // TX stamps written into the stamp ring so far (uint32, wraps)
constexpr int kTcpControlBytes = 64;
// Kernel TX software timestamps (SO_TIMESTAMPING), one per send() whose last byte the driver's xmit
// has stamped (skb_tx_timestamp): a ring of kTcpStampSlots float64 pairs [send seq, tx time in
// CLOCK_MONOTONIC ns], slot = n % kTcpStampSlots, published by kTcpStampHeadI32 after the pair.
// Written by poll() (the owner thread), read by the same thread in JS after poll returned.
constexpr int kTcpStampSlots = 64;
constexpr int kTcpStampOffset = kTcpControlBytes;
constexpr int kTcpDataOffset = kTcpStampOffset + kTcpStampSlots * 16;

enum TcpState : int32_t {
  kTcpIdle = 0,
  kTcpConnecting = 1,
  kTcpConnected = 2,
  kTcpPeerClosed = 3,  // recv returned 0
  kTcpFailed = 4,      // connect/send/recv error; errno in kTcpErrnoI32
  kTcpClosed = 5,      // closed by the owner
};

// Counters, read off the hot path (stats()).
struct TcpChannelStats {
  uint64_t bytesOut = 0, bytesIn = 0, sends = 0, recvs = 0, partialSends = 0, queuedSends = 0,
           wouldBlock = 0, connects = 0;
  // TX stamps: sends completed by a stamp (txStamps), stamps that completed no send (the first
  // part of a send the kernel took in two, a duplicate: txStampsUnmatched), sends whose stamp can
  // no longer come (the pending ring was full, the queue overflowed, or the connection ended
  // first: txStampsDropped), realtime -> monotonic calibrations done and the last one's error
  // bound (half its bracket, ns).
  uint64_t txStamps = 0, txStampsUnmatched = 0, txStampsDropped = 0, clockCalibrations = 0;
  int64_t clockCalErrNs = 0;
};

class TcpChannel {
 public:
  TcpChannel(uint32_t rxBytes, uint32_t txQueueBytes);
  ~TcpChannel();

  // Starts a non-blocking connect to an IPv4 address; completion is seen by poll().
  // 0 or a negative errno with "cause (fix: ...)" in err.
  int connect(const char* ipv4, uint16_t port, int busyPollUs, std::string* err);
  // Takes over a socket a TcpListener accepted (already connected): non-blocking, TCP_NODELAY and
  // SO_BUSY_POLL as for connect(). 0, or -EISCONN when the channel still has a socket.
  int adopt(int fd, int busyPollUs);
  // Sends the queued bytes it can, then shutdown(SHUT_WR): the peer reads everything sent and
  // then end of stream; receiving goes on until the peer closes (state kTcpPeerClosed).
  void shutdownWrite();
  // Writes len bytes now; what the kernel cannot take is queued and flushed by poll().
  // Returns the bytes written straight away (0..len), or a negative errno (not connected,
  // queue overflow: -ENOBUFS, or a send error, which also fails the channel).
  int send(const uint8_t* p, uint32_t len);
  // Drops `consumed` parsed bytes, finishes a connect, flushes queued bytes, and does one
  // non-blocking recv. Returns the unread bytes at kTcpDataOffset (state in the control line).
  int poll(uint32_t consumed);
  // Closes the socket (state kTcpClosed); the region stays valid for reuse by connect().
  void close();
  // Asks for kernel TX software timestamps on this channel's sockets (SO_TIMESTAMPING TX_SOFTWARE |
  // SOFTWARE | OPT_ID | OPT_TSONLY), set once the connection is established (OPT_ID on TCP needs
  // it; its byte key then starts at the first byte we send). Outcome in kTcpTxStampI32.
  void wantTxStamps(bool on);

  uint8_t* region() const { return region_.get(); }
  size_t regionBytes() const { return kTcpDataOffset + rxCap_; }
  std::shared_ptr<void> regionOwner() const { return region_; }
  const TcpChannelStats& stats() const { return stats_; }
  int fd() const { return fd_; }

 private:
  int32_t* ctl() const { return reinterpret_cast<int32_t*>(region_.get()); }
  void fail(int err);
  void setOptions(int fd, int busyPollUs);
  int flush();
  void enableTxStamps();
  void noteSend(uint32_t seq, uint32_t len);
  void drainTxStamps();
  void calibrate();

  int fd_ = -1;
  uint32_t rxCap_;
  std::shared_ptr<uint8_t> region_;
  std::unique_ptr<uint8_t[]> txq_;
  uint32_t txCap_;
  uint32_t txHead_ = 0, txLen_ = 0;  // queued bytes: [txHead_, txHead_ + txLen_), linear
  TcpChannelStats stats_;

  // TX stamps. Sends waiting for their stamp: [key of the send's last byte, its seq], oldest first;
  // keys are the kernel's OPT_ID byte counter (uint32, from the first byte sent since enabling).
  static constexpr uint32_t kPendingSlots = 256;
  struct PendingSend { uint32_t endKey, seq; };
  bool txStampWanted_ = false, txStampOn_ = false;
  PendingSend pending_[kPendingSlots];
  uint32_t pendHead_ = 0, pendTail_ = 0;  // [pendTail_, pendHead_)
  uint32_t streamBytes_ = 0;              // bytes accepted (written or queued) since enabling
  uint32_t quietPolls_ = 0;
  // CLOCK_MONOTONIC - CLOCK_REALTIME (ns), sampled at calAtNs_ (monotonic).
  int64_t monoMinusRealNs_ = 0, calAtNs_ = 0;
};

// A listening IPv4 socket whose accept is polled by its owner's loop (the venue side of a session:
// `tickpath venue-sim`), never by libuv. accept() hands out one pending connection per call.
// Threading: like TcpChannel, no threads; one owner thread at a time.
class TcpListener {
 public:
  ~TcpListener();
  // Binds and listens (SO_REUSEADDR, non-blocking). 0 or a negative errno with "cause (fix: ...)".
  int listen(const char* ipv4, uint16_t port, int backlog, std::string* err);
  // One non-blocking accept4: 1 with *fd set, 0 when nothing is pending, or a negative errno
  // (EMFILE and the like: the pending connection stays queued, the caller decides).
  int accept(int* fd);
  int port() const { return port_; }
  int fd() const { return fd_; }
  uint64_t accepted() const { return accepted_; }
  void close();

 private:
  int fd_ = -1;
  int port_ = 0;
  uint64_t accepted_ = 0;
};

// Lets a polling loop sleep in the kernel when none of its sockets has anything: an epoll set over
// listeners and channels (closed sockets leave it by themselves), plus, optionally, the event
// loop's own epoll fd (uv_backend_fd), so a signal or other libuv I/O ends the wait too. A loop
// that spins a few turns and then waits here wakes when a packet arrives, as an event loop does,
// without spinning through a shared core's time slice.
// Threading: the owner thread only.
class TcpWaitSet {
 public:
  TcpWaitSet();
  ~TcpWaitSet();
  bool ok() const { return ep_ >= 0; }
  // Adds a socket (EPOLLIN); 0 or -errno. Adding one twice is harmless.
  int add(int fd);
  // Sleeps until a member socket or loopFd (if >= 0) is readable, or timeoutUs (0 = just look).
  // Returns a bit set: 1 = a session socket is ready, 2 = the event loop has work; 0 = timeout;
  // or -errno.
  int wait(int timeoutUs, int loopFd);
  // epoll busy poll (EPIOCSPARAMS, Linux 6.9+): the wait spins in the kernel up to usecs on the
  // members' NAPI contexts before sleeping. 0 or -errno (-ENOTTY: the kernel predates it). Only
  // sockets whose packets came through a NAPI device have one: loopback's do not.
  int busyPoll(uint32_t usecs, uint16_t budget, bool prefer);

 private:
  int ep_ = -1;
  int loopFd_ = -1;
};

}  // namespace tickpath
