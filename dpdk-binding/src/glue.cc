// The only file that knows about V8 and nan. Everything is a plain function over an integer port
// id, so any worker thread that loads the addon can poll a port or map its memory: a JS object
// cannot cross isolates, an integer can.
//
// Errors: native code returns a negative errno and a message; this file throws an Error carrying
// `errno` and `backend`, and lib/binding turns it into a TickpathError with a stable code.
#include <nan.h>

#include <array>
#include <atomic>
#include <mutex>

#include "backend.h"
#include "platform.h"
#include "port.h"
#ifdef TICKPATH_HAVE_DPDK
#include "dpdk_env.h"
#endif

namespace tickpath {
namespace {

// Ids are never reused (see PortClose), so this bounds the ports opened over the process's life,
// closed ones included. A closed Port keeps its rings mapped (its counters stay readable): about
// 2 MB of address space with default sizes, resident only where it was touched.
constexpr int kMaxPorts = 256;
std::mutex g_portsMutex;
std::array<std::unique_ptr<Port>, kMaxPorts> g_ports;
// Lock-free lookup for the hot poll() call from any worker. Ports are never freed while the
// process runs (a closed port's poll returns 0), so a pointer read here cannot dangle.
std::array<std::atomic<Port*>, kMaxPorts> g_portPtrs;

void throwErrno(int rc, const std::string& msg, const char* backend = nullptr) {
  v8::Local<v8::Value> e = Nan::Error(msg.c_str());
  auto obj = e.As<v8::Object>();
  Nan::Set(obj, Nan::New("errno").ToLocalChecked(), Nan::New(-rc));
  if (backend) Nan::Set(obj, Nan::New("backend").ToLocalChecked(), Nan::New(backend).ToLocalChecked());
  Nan::ThrowError(e);
}

Port* portArg(const Nan::FunctionCallbackInfo<v8::Value>& info) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  Port* p = (id >= 0 && id < kMaxPorts) ? g_portPtrs[id].load(std::memory_order_acquire) : nullptr;
  if (!p) Nan::ThrowRangeError("no open port with that id");
  return p;
}

uint16_t queueArg(const Nan::FunctionCallbackInfo<v8::Value>& info, Port* p, int idx) {
  int q = Nan::To<int32_t>(info[idx]).FromMaybe(-1);
  if (q < 0 || q >= p->queues()) {
    Nan::ThrowRangeError("queue index out of range");
    return 0xffff;
  }
  return static_cast<uint16_t>(q);
}

// A SharedArrayBuffer over native memory. The backing store holds a reference to the memory's
// owner, so the memory outlives port close() for as long as any JS view of it exists.
v8::Local<v8::Value> sharedBuffer(void* base, size_t len, const std::shared_ptr<void>& owner) {
  auto* keep = new std::shared_ptr<void>(owner);
  auto store = v8::SharedArrayBuffer::NewBackingStore(
      base, len, [](void*, size_t, void* data) { delete static_cast<std::shared_ptr<void>*>(data); }, keep);
  return v8::SharedArrayBuffer::New(v8::Isolate::GetCurrent(), std::move(store));
}

void setNum(v8::Local<v8::Object> o, const char* k, double v) {
  Nan::Set(o, Nan::New(k).ToLocalChecked(), Nan::New(v));
}

NAN_METHOD(Backends) {
  auto arr = Nan::New<v8::Array>();
  uint32_t i = 0;
  for (const auto& b : backendRegistry()) {
    auto o = Nan::New<v8::Object>();
    Nan::Set(o, Nan::New("name").ToLocalChecked(), Nan::New(b.name).ToLocalChecked());
    Nan::Set(o, Nan::New("compiledIn").ToLocalChecked(), Nan::New(b.compiledIn));
    Nan::Set(o, Nan::New("missing").ToLocalChecked(), Nan::New(b.missing).ToLocalChecked());
    Nan::Set(arr, i++, o);
  }
  info.GetReturnValue().Set(arr);
}

NAN_METHOD(OpenPort) {
  Nan::Utf8String name(info[0]);
  Options opts;
  if (info[1]->IsObject()) {
    auto obj = info[1].As<v8::Object>();
    auto keys = Nan::GetOwnPropertyNames(obj).ToLocalChecked();
    for (uint32_t i = 0; i < keys->Length(); i++) {
      auto k = Nan::Get(keys, i).ToLocalChecked();
      Nan::Utf8String ks(k), vs(Nan::Get(obj, k).ToLocalChecked());
      opts[*ks] = *vs;
    }
  }
  std::lock_guard<std::mutex> lock(g_portsMutex);
  int id = -1;
  for (int i = 0; i < kMaxPorts; i++)
    if (!g_ports[i]) {
      id = i;
      break;
    }
  if (id < 0)
    return throwErrno(-EMFILE, "too many ports opened in this process (" + std::to_string(kMaxPorts) +
                                   "; a closed port keeps its id until exit) (fix: reuse an open port instead of reopening it)");
  auto port = std::make_unique<Port>();
  std::string err;
  int rc = port->open(*name, opts, &err);
  if (rc < 0) return throwErrno(rc, err, *name);
  g_portPtrs[id].store(port.get(), std::memory_order_release);
  g_ports[id] = std::move(port);
  info.GetReturnValue().Set(id);
}

NAN_METHOD(PortQueues) {
  if (Port* p = portArg(info)) info.GetReturnValue().Set(p->queues());
}

NAN_METHOD(PortDescribe) {
  if (Port* p = portArg(info)) info.GetReturnValue().Set(Nan::New(p->describe()).ToLocalChecked());
}

NAN_METHOD(PortRegions) {
  Port* p = portArg(info);
  if (!p) return;
  auto arr = Nan::New<v8::Array>();
  uint32_t i = 0;
  for (const auto& r : p->regions()) Nan::Set(arr, i++, sharedBuffer(r.base, r.len, r.owner));
  info.GetReturnValue().Set(arr);
}

NAN_METHOD(PortRxRing) {
  Port* p = portArg(info);
  if (!p) return;
  uint16_t q = queueArg(info, p, 1);
  if (q == 0xffff) return;
  const Ring& r = p->rxRing(q);
  info.GetReturnValue().Set(sharedBuffer(r.mem, r.bytes, r.owner));
}

NAN_METHOD(PortTxRing) {
  Port* p = portArg(info);
  if (!p) return;
  uint16_t q = queueArg(info, p, 1);
  if (q == 0xffff) return;
  const Ring& r = p->txRing(q);
  info.GetReturnValue().Set(sharedBuffer(r.mem, r.bytes, r.owner));
}

NAN_METHOD(PortTxSlots) {
  Port* p = portArg(info);
  if (!p) return;
  uint16_t q = queueArg(info, p, 1);
  if (q == 0xffff) return;
  const Region& r = p->txSlots(q);
  info.GetReturnValue().Set(sharedBuffer(r.base, r.len, r.owner));
}

NAN_METHOD(PortStart) {
  Port* p = portArg(info);
  if (!p) return;
  std::string err;
  int rc = p->start(&err);
  if (rc < 0) throwErrno(rc, err, p->backendName().c_str());
}

NAN_METHOD(PortStop) {
  if (Port* p = portArg(info)) p->stop();
}

// Hot: called by the consuming worker in inline mode once per batch.
NAN_METHOD(PortPoll) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  int q = Nan::To<int32_t>(info[1]).FromMaybe(0);
  // Optional third argument: poll until this many packets wait on the RX ring (Port::pollFor).
  int want = info.Length() > 2 ? Nan::To<int32_t>(info[2]).FromMaybe(0) : 0;
  Port* p = (id >= 0 && id < kMaxPorts) ? g_portPtrs[id].load(std::memory_order_acquire) : nullptr;
  if (!p || q < 0 || q >= p->queues()) return info.GetReturnValue().Set(0u);
  info.GetReturnValue().Set(want > 0 ? p->pollFor(static_cast<uint16_t>(q), static_cast<uint32_t>(want)) : p->poll(static_cast<uint16_t>(q)));
}

NAN_METHOD(PortClose) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  if (id < 0 || id >= kMaxPorts) return;
  std::lock_guard<std::mutex> lock(g_portsMutex);
  Port* p = g_portPtrs[id].load();
  if (!p) return;
  p->close();
  // The slot stays taken by the closed Port object until process exit (see g_portPtrs); the id
  // is not reused, so a late poll() from a worker finds a closed port, never someone else's.
}

NAN_METHOD(PortStats) {
  Port* p = portArg(info);
  if (!p) return;
  auto out = Nan::New<v8::Object>();
  auto queues = Nan::New<v8::Array>();
  for (uint16_t q = 0; q < p->queues(); q++) {
    uint64_t c[kQueueCounterCount] = {};
    p->counters(q, c);
    auto o = Nan::New<v8::Object>();
    for (uint32_t i = 0; i < kQueueCounterCount; i++) setNum(o, kQueueCounterNames[i], static_cast<double>(c[i]));
    Nan::Set(queues, q, o);
  }
  Nan::Set(out, Nan::New("queues").ToLocalChecked(), queues);
  auto dev = Nan::New<v8::Object>();
  {
    DeviceStats d{};
    p->deviceStats(&d);
    setNum(dev, "imissed", static_cast<double>(d.imissed));
    setNum(dev, "ierrors", static_cast<double>(d.ierrors));
    setNum(dev, "rxNoMbuf", static_cast<double>(d.rxNoMbuf));
    setNum(dev, "kernelDrops", static_cast<double>(d.kernelDrops));
    setNum(dev, "oerrors", static_cast<double>(d.oerrors));
    setNum(dev, "malformed", static_cast<double>(d.malformed));
    setNum(dev, "poolSize", static_cast<double>(d.poolSize));
    setNum(dev, "poolFree", static_cast<double>(d.poolFree));
  }
  Nan::Set(out, Nan::New("device").ToLocalChecked(), dev);
  info.GetReturnValue().Set(out);
}

NAN_METHOD(PinCurrentThread) {
  int cpu = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  std::string err;
  int rc = pinThread(cpu, &err);
  if (rc < 0) return throwErrno(rc, err);
  info.GetReturnValue().Set(static_cast<double>(currentTid()));
}

NAN_METHOD(ThreadAffinity) {
  auto arr = Nan::New<v8::Array>();
  uint32_t i = 0;
  for (int c : threadAffinity()) Nan::Set(arr, i++, Nan::New(c));
  info.GetReturnValue().Set(arr);
}

NAN_METHOD(SetThreadAffinity) {
  std::vector<int> cpus;
  if (info[0]->IsArray()) {
    auto a = info[0].As<v8::Array>();
    for (uint32_t i = 0; i < a->Length(); i++) cpus.push_back(Nan::To<int32_t>(Nan::Get(a, i).ToLocalChecked()).FromJust());
  }
  std::string err;
  int rc = setThreadAffinity(cpus, &err);
  if (rc < 0) throwErrno(rc, err);
}

NAN_METHOD(CurrentTid) { info.GetReturnValue().Set(static_cast<double>(currentTid())); }

NAN_METHOD(NumaNodeOfCpu) { info.GetReturnValue().Set(numaNodeOfCpu(Nan::To<int32_t>(info[0]).FromMaybe(0))); }

// mapSharedFile(path, bytes, create): a SharedArrayBuffer over a MAP_SHARED file (/dev/shm stats).
NAN_METHOD(MapSharedFile) {
  Nan::Utf8String path(info[0]);
  size_t bytes = static_cast<size_t>(Nan::To<double>(info[1]).FromMaybe(0));
  bool create = Nan::To<bool>(info[2]).FromMaybe(false);
  void* base = nullptr;
  size_t len = 0;
  std::string err;
  auto owner = mapSharedFile(*path, bytes, create, &base, &len, &err);
  if (!owner) return throwErrno(-ENOENT, err);
  info.GetReturnValue().Set(sharedBuffer(base, len, owner));
}

NAN_METHOD(NowNs) { info.GetReturnValue().Set(static_cast<double>(monotonicNs())); }

#ifdef TICKPATH_HAVE_DPDK
NAN_METHOD(DpdkEalState) {
  auto o = Nan::New<v8::Object>();
  Nan::Set(o, Nan::New("initialized").ToLocalChecked(), Nan::New(dpdkEalInitialized()));
  Nan::Set(o, Nan::New("args").ToLocalChecked(), Nan::New(dpdkEalArgs()).ToLocalChecked());
  info.GetReturnValue().Set(o);
}
#endif

// Closes every port and, with dpdk, cleans up the EAL. lib/binding calls it on process exit.
NAN_METHOD(Shutdown) {
  std::lock_guard<std::mutex> lock(g_portsMutex);
  for (auto& p : g_ports)
    if (p) p->close();
#ifdef TICKPATH_HAVE_DPDK
  dpdkEalCleanup();
#endif
}

void setConst(v8::Local<v8::Object> o, const char* k, double v) { setNum(o, k, v); }

void exportFn(v8::Local<v8::Object> target, const char* name, Nan::FunctionCallback fn) {
  Nan::Set(target, Nan::New(name).ToLocalChecked(), Nan::GetFunction(Nan::New<v8::FunctionTemplate>(fn)).ToLocalChecked());
}

}  // namespace

void exportJournalFns(v8::Local<v8::Object> target);  // journal_glue.cc
void exportTcpFns(v8::Local<v8::Object> target);      // tcp_glue.cc
void exportBpfFns(v8::Local<v8::Object> target);      // bpf_glue.cc
void exportGcFns(v8::Local<v8::Object> target);       // gc_glue.cc
void exportHugePageFns(v8::Local<v8::Object> target); // hugepage_glue.cc
}  // namespace tickpath

NAN_MODULE_INIT(Init) {
  using namespace tickpath;
  exportFn(target, "backends", Backends);
  exportFn(target, "openPort", OpenPort);
  exportFn(target, "portQueues", PortQueues);
  exportFn(target, "portDescribe", PortDescribe);
  exportFn(target, "portRegions", PortRegions);
  exportFn(target, "portRxRing", PortRxRing);
  exportFn(target, "portTxRing", PortTxRing);
  exportFn(target, "portTxSlots", PortTxSlots);
  exportFn(target, "portStart", PortStart);
  exportFn(target, "portStop", PortStop);
  exportFn(target, "portPoll", PortPoll);
  exportFn(target, "portClose", PortClose);
  exportFn(target, "portStats", PortStats);
  exportFn(target, "pinCurrentThread", PinCurrentThread);
  exportFn(target, "threadAffinity", ThreadAffinity);
  exportFn(target, "setThreadAffinity", SetThreadAffinity);
  exportFn(target, "currentTid", CurrentTid);
  exportFn(target, "numaNodeOfCpu", NumaNodeOfCpu);
  exportFn(target, "nowNs", NowNs);
  exportFn(target, "mapSharedFile", MapSharedFile);
  exportFn(target, "shutdown", Shutdown);
  exportJournalFns(target);
  exportTcpFns(target);
  exportBpfFns(target);
  exportGcFns(target);
  exportHugePageFns(target);
#ifdef TICKPATH_HAVE_DPDK
  exportFn(target, "dpdkEalState", DpdkEalState);
#endif
  auto layout = Nan::New<v8::Object>();
  setConst(layout, "ringHeaderBytes", kRingHeaderBytes);
  setConst(layout, "prodPosI32", kProdPosI32);
  setConst(layout, "consPosI32", kConsPosI32);
  setConst(layout, "capacityI32", kCapacityI32);
  setConst(layout, "maskI32", kMaskI32);
  setConst(layout, "descBytesI32", kDescBytesI32);
  setConst(layout, "queueI32", kQueueI32);
  setConst(layout, "stateI32", kStateI32);
  setConst(layout, "eofI32", kEofI32);
  setConst(layout, "txSlotBytesI32", kTxSlotBytesI32);
  setConst(layout, "countersByte", kCountersByte);
  setConst(layout, "descBytes", sizeof(RxDesc));
  setConst(layout, "txDescWords", kTxDescWords);
  setConst(layout, "flagTruncated", kRxFlagTruncated);
  setConst(layout, "flagTsHw", kRxFlagTsHw);
  setConst(layout, "flagTsSw", kRxFlagTsSw);
  setConst(layout, "flagTsFile", kRxFlagTsFile);
  setConst(layout, "flagTsPoll", kRxFlagTsPoll);
  setConst(layout, "flagL4Payload", kRxFlagL4Payload);
  setConst(layout, "queueCounterCount", kQueueCounterCount);
  Nan::Set(target, Nan::New("layout").ToLocalChecked(), layout);
  // Counter name -> index on the counters line, from the one list in ring_layout.h.
  auto counters = Nan::New<v8::Object>();
  for (uint32_t i = 0; i < kQueueCounterCount; i++) setConst(counters, kQueueCounterNames[i], i);
  Nan::Set(target, Nan::New("queueCounters").ToLocalChecked(), counters);
}

NAN_MODULE_WORKER_ENABLED(tickpath, Init)
