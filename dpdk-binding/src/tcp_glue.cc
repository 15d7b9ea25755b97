// nan face of TcpChannel (tcp_channel.h). Like the port functions in glue.cc, everything is a plain
// function over an integer channel id: the hot calls (tcpSend, tcpPoll) take and return numbers
// and never allocate a V8 object. Errors: a negative errno from the hot calls (the session
// decides), a thrown Error with `errno` from tcpConnect (lib/binding/errors.ts maps it).
#include <nan.h>

#include <sched.h>
#include <sys/prctl.h>

#include <cstring>

#include <array>
#include <atomic>
#include <mutex>

#include "tcp_channel.h"

namespace tickpath {
namespace {

constexpr int kMaxChannels = 1024;
std::mutex g_channelsMutex;
std::array<std::atomic<TcpChannel*>, kMaxChannels> g_channels;
int g_nextChannel = 0;
// Listening sockets (the venue side), polled like channels; few per process.
constexpr int kMaxListeners = 64;
std::array<std::atomic<TcpListener*>, kMaxListeners> g_listeners;

// Wait sets of polling loops (tcp_channel.h TcpWaitSet); few per process.
constexpr int kMaxWaitSets = 16;
std::array<std::atomic<TcpWaitSet*>, kMaxWaitSets> g_waitSets;

TcpWaitSet* waitSetArg(const Nan::FunctionCallbackInfo<v8::Value>& info) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  TcpWaitSet* w = (id >= 0 && id < kMaxWaitSets) ? g_waitSets[id].load(std::memory_order_acquire) : nullptr;
  if (!w) Nan::ThrowRangeError("no open TCP wait set with that id");
  return w;
}

TcpListener* listenerArg(const Nan::FunctionCallbackInfo<v8::Value>& info) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  TcpListener* l = (id >= 0 && id < kMaxListeners) ? g_listeners[id].load(std::memory_order_acquire) : nullptr;
  if (!l) Nan::ThrowRangeError("no open TCP listener with that id");
  return l;
}

TcpChannel* channelArg(const Nan::FunctionCallbackInfo<v8::Value>& info) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  TcpChannel* ch = (id >= 0 && id < kMaxChannels) ? g_channels[id].load(std::memory_order_acquire) : nullptr;
  if (!ch) Nan::ThrowRangeError("no open TCP channel with that id");
  return ch;
}

void throwErrno(int rc, const std::string& msg) {
  v8::Local<v8::Value> e = Nan::Error(msg.c_str());
  Nan::Set(e.As<v8::Object>(), Nan::New("errno").ToLocalChecked(), Nan::New(-rc));
  Nan::ThrowError(e);
}

// tcpOpen(rxBytes, txQueueBytes) -> id. Ids are reused only after tcpDestroy.
NAN_METHOD(TcpOpen) {
  uint32_t rx = Nan::To<uint32_t>(info[0]).FromMaybe(0);
  uint32_t tx = Nan::To<uint32_t>(info[1]).FromMaybe(0);
  if (rx < 4096 || rx > (64u << 20) || tx < 4096 || tx > (256u << 20)) {
    throwErrno(-EINVAL, "tcpOpen: rxBytes 4 KiB..64 MiB and txQueueBytes 4 KiB..256 MiB expected");
    return;
  }
  std::lock_guard<std::mutex> g(g_channelsMutex);
  for (int n = 0; n < kMaxChannels; n++) {
    int id = (g_nextChannel + n) % kMaxChannels;
    if (g_channels[id].load(std::memory_order_relaxed)) continue;
    g_channels[id].store(new TcpChannel(rx, tx), std::memory_order_release);
    g_nextChannel = id + 1;
    info.GetReturnValue().Set(Nan::New(id));
    return;
  }
  throwErrno(-EMFILE, "tcpOpen: 1024 TCP channels open (fix: destroy channels no longer used)");
}

// tcpRegion(id) -> SharedArrayBuffer over the control line and receive bytes (created once per channel).
NAN_METHOD(TcpRegion) {
  TcpChannel* ch = channelArg(info);
  if (!ch) return;
  auto* keep = new std::shared_ptr<void>(ch->regionOwner());
  auto store = v8::SharedArrayBuffer::NewBackingStore(
      ch->region(), ch->regionBytes(), [](void*, size_t, void* data) { delete static_cast<std::shared_ptr<void>*>(data); }, keep);
  info.GetReturnValue().Set(v8::SharedArrayBuffer::New(v8::Isolate::GetCurrent(), std::move(store)));
}

// tcpConnect(id, ipv4, port, busyPollUs): starts a non-blocking connect; throws on immediate failure.
NAN_METHOD(TcpConnect) {
  TcpChannel* ch = channelArg(info);
  if (!ch) return;
  Nan::Utf8String host(info[1]);
  int port = Nan::To<int32_t>(info[2]).FromMaybe(0);
  int busy = Nan::To<int32_t>(info[3]).FromMaybe(0);
  std::string err;
  int rc = ch->connect(*host ? *host : "", static_cast<uint16_t>(port), busy, &err);
  if (rc < 0) throwErrno(rc, err);
}

// tcpSend(id, buffer, offset, length) -> bytes written now (rest queued) or -errno.
NAN_METHOD(TcpSend) {
  TcpChannel* ch = channelArg(info);
  if (!ch) return;
  auto view = info[1].As<v8::ArrayBufferView>();
  uint32_t off = Nan::To<uint32_t>(info[2]).FromMaybe(0);
  uint32_t len = Nan::To<uint32_t>(info[3]).FromMaybe(0);
  if (off + len > view->ByteLength()) { Nan::ThrowRangeError("tcpSend: offset + length beyond the buffer"); return; }
  const uint8_t* base = static_cast<const uint8_t*>(view->Buffer()->Data()) + view->ByteOffset();
  info.GetReturnValue().Set(Nan::New(ch->send(base + off, len)));
}

// tcpPoll(id, consumed) -> unread bytes at the data offset.
NAN_METHOD(TcpPoll) {
  TcpChannel* ch = channelArg(info);
  if (!ch) return;
  info.GetReturnValue().Set(Nan::New(ch->poll(Nan::To<uint32_t>(info[1]).FromMaybe(0))));
}

// tcpTxTimestamps(id, on): ask for kernel TX software timestamps (TcpChannel::wantTxStamps); they
// are enabled when the connection is established, the outcome in the control line (txStampI32).
NAN_METHOD(TcpTxTimestamps) {
  TcpChannel* ch = channelArg(info);
  if (ch) ch->wantTxStamps(Nan::To<bool>(info[1]).FromMaybe(false));
}

// tcpShutdown(id): flush what it can, then FIN (the peer reads everything sent, then the end).
NAN_METHOD(TcpShutdown) {
  TcpChannel* ch = channelArg(info);
  if (ch) ch->shutdownWrite();
}

// tcpListen(ipv4, port, backlog) -> listener id; throws (with errno) when it cannot listen.
NAN_METHOD(TcpListen) {
  Nan::Utf8String host(info[0]);
  int port = Nan::To<int32_t>(info[1]).FromMaybe(-1);
  int backlog = Nan::To<int32_t>(info[2]).FromMaybe(128);
  if (port < 0 || port > 65535) { throwErrno(-EINVAL, "tcpListen: port 0..65535 expected"); return; }
  auto* l = new TcpListener();
  std::string err;
  int rc = l->listen(*host ? *host : "", static_cast<uint16_t>(port), backlog > 0 ? backlog : 128, &err);
  if (rc < 0) { delete l; throwErrno(rc, err); return; }
  std::lock_guard<std::mutex> g(g_channelsMutex);
  for (int id = 0; id < kMaxListeners; id++) {
    if (g_listeners[id].load(std::memory_order_relaxed)) continue;
    g_listeners[id].store(l, std::memory_order_release);
    info.GetReturnValue().Set(Nan::New(id));
    return;
  }
  delete l;
  throwErrno(-EMFILE, "tcpListen: 64 TCP listeners open (fix: close listeners no longer used)");
}

NAN_METHOD(TcpListenerPort) {
  TcpListener* l = listenerArg(info);
  if (l) info.GetReturnValue().Set(Nan::New(l->port()));
}

// tcpAccept(listenerId, channelId, busyPollUs) -> 1 (the channel now holds a connected socket),
// 0 (nothing pending) or -errno. The channel must have no socket (new, or closed).
NAN_METHOD(TcpAccept) {
  TcpListener* l = listenerArg(info);
  if (!l) return;
  int cid = Nan::To<int32_t>(info[1]).FromMaybe(-1);
  TcpChannel* ch = (cid >= 0 && cid < kMaxChannels) ? g_channels[cid].load(std::memory_order_acquire) : nullptr;
  if (!ch) { Nan::ThrowRangeError("no open TCP channel with that id"); return; }
  if (ch->fd() >= 0) { info.GetReturnValue().Set(Nan::New(-EISCONN)); return; }
  int fd = -1;
  int rc = l->accept(&fd);
  if (rc == 1) ch->adopt(fd, Nan::To<int32_t>(info[2]).FromMaybe(0));
  info.GetReturnValue().Set(Nan::New(rc));
}

NAN_METHOD(TcpListenerClose) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  if (id < 0 || id >= kMaxListeners) return;
  std::lock_guard<std::mutex> g(g_channelsMutex);
  delete g_listeners[id].exchange(nullptr, std::memory_order_acq_rel);
}

// threadTimerSlackNs(ns) -> the previous slack, or -errno. The calling thread only. A loop that
// polls sessions and parks for a few microseconds between turns (Atomics.wait) would otherwise
// sleep the default 50 us slack longer than asked on every park.
NAN_METHOD(ThreadTimerSlackNs) {
  int64_t ns = Nan::To<int64_t>(info[0]).FromMaybe(-1);
  if (ns < 1 || ns > 1000000000) { throwErrno(-EINVAL, "threadTimerSlackNs: 1..1e9 ns expected"); return; }
  int prev = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  if (prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(ns), 0, 0, 0) != 0) { info.GetReturnValue().Set(Nan::New(-errno)); return; }
  info.GetReturnValue().Set(Nan::New(static_cast<double>(prev)));
}

// threadRealtime(priority) -> 0 or -errno. The calling thread only: priority 1..99 makes it
// SCHED_FIFO at that priority, 0 puts it back to SCHED_OTHER. SCHED_RESET_ON_FORK, so nothing the
// thread starts inherits a real-time policy. Policy (the cap, the sleep budget a spinning thread
// needs, the messages) lives in lib/protocols/transport/thread-realtime.ts.
NAN_METHOD(ThreadRealtime) {
  int prio = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  if (prio < 0 || prio > 99) { throwErrno(-EINVAL, "threadRealtime: priority 0..99 expected"); return; }
  sched_param sp{};
  sp.sched_priority = prio;
  int policy = (prio > 0 ? SCHED_FIFO : SCHED_OTHER) | SCHED_RESET_ON_FORK;
  info.GetReturnValue().Set(Nan::New(sched_setscheduler(0, policy, &sp) == 0 ? 0 : -errno));
}

// threadScheduler() -> [policy, priority] of the calling thread, as the kernel holds them (policy:
// 0 SCHED_OTHER, 1 SCHED_FIFO, 2 SCHED_RR, ...; the reset-on-fork flag masked off).
NAN_METHOD(ThreadScheduler) {
  int policy = sched_getscheduler(0);
  sched_param sp{};
  if (policy < 0 || sched_getparam(0, &sp) != 0) { info.GetReturnValue().Set(Nan::New(-errno)); return; }
  auto a = Nan::New<v8::Array>(2);
  Nan::Set(a, 0, Nan::New(policy & ~SCHED_RESET_ON_FORK));
  Nan::Set(a, 1, Nan::New(sp.sched_priority));
  info.GetReturnValue().Set(a);
}

// tcpWaitSetBusyPoll(waitSetId, usecs, budget, prefer) -> 0 or -errno (TcpWaitSet::busyPoll).
NAN_METHOD(TcpWaitSetBusyPoll) {
  TcpWaitSet* w = waitSetArg(info);
  if (!w) return;
  int64_t us = Nan::To<int64_t>(info[1]).FromMaybe(-1);
  int32_t budget = Nan::To<int32_t>(info[2]).FromMaybe(-1);
  if (us < 0 || us > 1000000 || budget < 0 || budget > 65535) { throwErrno(-EINVAL, "tcpWaitSetBusyPoll: usecs 0..1000000, budget 0..65535 expected"); return; }
  bool prefer = Nan::To<bool>(info[3]).FromMaybe(false);
  info.GetReturnValue().Set(Nan::New(w->busyPoll(static_cast<uint32_t>(us), static_cast<uint16_t>(budget), prefer)));
}

// tcpWaitSetOpen() -> id.
NAN_METHOD(TcpWaitSetOpen) {
  auto* w = new TcpWaitSet();
  if (!w->ok()) { int e = errno; delete w; throwErrno(-e, std::string("epoll_create1: ") + strerror(e) + " (fix: raise the open-file limit, ulimit -n)"); return; }
  std::lock_guard<std::mutex> g(g_channelsMutex);
  for (int id = 0; id < kMaxWaitSets; id++) {
    if (g_waitSets[id].load(std::memory_order_relaxed)) continue;
    g_waitSets[id].store(w, std::memory_order_release);
    info.GetReturnValue().Set(Nan::New(id));
    return;
  }
  delete w;
  throwErrno(-EMFILE, "tcpWaitSetOpen: 16 wait sets open (fix: close wait sets no longer used)");
}

// tcpWaitSetAdd(waitSetId, kind, id): kind 0 = channel, 1 = listener. 0 or -errno.
NAN_METHOD(TcpWaitSetAdd) {
  TcpWaitSet* w = waitSetArg(info);
  if (!w) return;
  int kind = Nan::To<int32_t>(info[1]).FromMaybe(-1);
  int id = Nan::To<int32_t>(info[2]).FromMaybe(-1);
  int fd = -1;
  if (kind == 0 && id >= 0 && id < kMaxChannels) { TcpChannel* ch = g_channels[id].load(std::memory_order_acquire); if (ch) fd = ch->fd(); }
  if (kind == 1 && id >= 0 && id < kMaxListeners) { TcpListener* l = g_listeners[id].load(std::memory_order_acquire); if (l) fd = l->fd(); }
  info.GetReturnValue().Set(Nan::New(fd < 0 ? -EBADF : w->add(fd)));
}

// tcpWaitSetWait(waitSetId, maxUs, withLoop) -> bits (1 sessions ready, 2 event loop has work),
// 0 timeout, or -errno. With withLoop, the event loop's epoll fd is a member and the sleep never
// passes its next timer, when libuv can say when that is: called from a setImmediate callback,
// uv_backend_timeout is 0 (the immediate queue's idle handle is active), so then maxUs alone
// bounds the sleep.
NAN_METHOD(TcpWaitSetWait) {
  TcpWaitSet* w = waitSetArg(info);
  if (!w) return;
  int64_t maxUs = Nan::To<int64_t>(info[1]).FromMaybe(0);
  bool withLoop = Nan::To<bool>(info[2]).FromMaybe(true);
  int64_t t = maxUs < 0 ? 0 : maxUs > 60000000 ? 60000000 : maxUs;
  int loopFd = -1;
  if (withLoop) {
    uv_loop_t* loop = Nan::GetCurrentEventLoop();
    int uvMs = uv_backend_timeout(loop);
    if (uvMs > 0 && int64_t(uvMs) * 1000 < t) t = int64_t(uvMs) * 1000;
    loopFd = uv_backend_fd(loop);
  }
  info.GetReturnValue().Set(Nan::New(w->wait(static_cast<int>(t), loopFd)));
}

NAN_METHOD(TcpWaitSetClose) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  if (id < 0 || id >= kMaxWaitSets) return;
  std::lock_guard<std::mutex> g(g_channelsMutex);
  delete g_waitSets[id].exchange(nullptr, std::memory_order_acq_rel);
}

NAN_METHOD(TcpClose) {
  TcpChannel* ch = channelArg(info);
  if (ch) ch->close();
}

NAN_METHOD(TcpDestroy) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  if (id < 0 || id >= kMaxChannels) return;
  std::lock_guard<std::mutex> g(g_channelsMutex);
  TcpChannel* ch = g_channels[id].exchange(nullptr, std::memory_order_acq_rel);
  delete ch;  // the region lives on while a JS view holds it (shared owner)
}

NAN_METHOD(TcpStats) {
  TcpChannel* ch = channelArg(info);
  if (!ch) return;
  const TcpChannelStats& s = ch->stats();
  auto o = Nan::New<v8::Object>();
  auto set = [&](const char* k, double v) { Nan::Set(o, Nan::New(k).ToLocalChecked(), Nan::New(v)); };
  set("bytesOut", static_cast<double>(s.bytesOut));
  set("bytesIn", static_cast<double>(s.bytesIn));
  set("sends", static_cast<double>(s.sends));
  set("recvs", static_cast<double>(s.recvs));
  set("partialSends", static_cast<double>(s.partialSends));
  set("queuedSends", static_cast<double>(s.queuedSends));
  set("wouldBlock", static_cast<double>(s.wouldBlock));
  set("connects", static_cast<double>(s.connects));
  set("txStamps", static_cast<double>(s.txStamps));
  set("txStampsUnmatched", static_cast<double>(s.txStampsUnmatched));
  set("txStampsDropped", static_cast<double>(s.txStampsDropped));
  set("clockCalibrations", static_cast<double>(s.clockCalibrations));
  set("clockCalErrNs", static_cast<double>(s.clockCalErrNs));
  info.GetReturnValue().Set(o);
}

void exportFn(v8::Local<v8::Object> target, const char* name, Nan::FunctionCallback fn) {
  Nan::Set(target, Nan::New(name).ToLocalChecked(), Nan::GetFunction(Nan::New<v8::FunctionTemplate>(fn)).ToLocalChecked());
}

}  // namespace

void exportTcpFns(v8::Local<v8::Object> target) {
  exportFn(target, "tcpOpen", TcpOpen);
  exportFn(target, "tcpRegion", TcpRegion);
  exportFn(target, "tcpConnect", TcpConnect);
  exportFn(target, "tcpSend", TcpSend);
  exportFn(target, "tcpPoll", TcpPoll);
  exportFn(target, "tcpClose", TcpClose);
  exportFn(target, "tcpDestroy", TcpDestroy);
  exportFn(target, "tcpStats", TcpStats);
  exportFn(target, "tcpShutdown", TcpShutdown);
  exportFn(target, "tcpTxTimestamps", TcpTxTimestamps);
  exportFn(target, "tcpListen", TcpListen);
  exportFn(target, "tcpListenerPort", TcpListenerPort);
  exportFn(target, "tcpAccept", TcpAccept);
  exportFn(target, "tcpListenerClose", TcpListenerClose);
  exportFn(target, "threadTimerSlackNs", ThreadTimerSlackNs);
  exportFn(target, "tcpWaitSetOpen", TcpWaitSetOpen);
  exportFn(target, "tcpWaitSetAdd", TcpWaitSetAdd);
  exportFn(target, "tcpWaitSetWait", TcpWaitSetWait);
  exportFn(target, "tcpWaitSetClose", TcpWaitSetClose);
  exportFn(target, "tcpWaitSetBusyPoll", TcpWaitSetBusyPoll);
  exportFn(target, "threadRealtime", ThreadRealtime);
  exportFn(target, "threadScheduler", ThreadScheduler);
  auto layout = Nan::New<v8::Object>();
  auto set = [&](const char* k, double v) { Nan::Set(layout, Nan::New(k).ToLocalChecked(), Nan::New(v)); };
  set("stateI32", kTcpStateI32);
  set("errnoI32", kTcpErrnoI32);
  set("rxLenI32", kTcpRxLenI32);
  set("txQueuedI32", kTcpTxQueuedI32);
  set("busyPollI32", kTcpBusyPollI32);
  set("txStampI32", kTcpTxStampI32);
  set("sendSeqI32", kTcpSendSeqI32);
  set("stampHeadI32", kTcpStampHeadI32);
  set("stampOffset", kTcpStampOffset);
  set("stampSlots", kTcpStampSlots);
  // A send of zero bytes returns before send(2) and moves nothing (TcpChannel::send): the keep-warm's.
  set("zeroSendFree", 1);
  set("dataOffset", kTcpDataOffset);
  set("stateIdle", kTcpIdle);
  set("stateConnecting", kTcpConnecting);
  set("stateConnected", kTcpConnected);
  set("statePeerClosed", kTcpPeerClosed);
  set("stateFailed", kTcpFailed);
  set("stateClosed", kTcpClosed);
  Nan::Set(target, Nan::New("tcpLayout").ToLocalChecked(), layout);
}

}  // namespace tickpath
