// Capture filters: a BPF expression compiled by libpcap's own compiler (pcap_compile on a "dead"
// handle of the capture's link type) and run by libpcap's interpreter (bpf_filter) over frames
// that are already in memory. The same program therefore applies to every backend: the frames of
// dpdk, af_xdp, af_packet and the udp backend's synthesized headers all reach `tickpath capture`
// as bytes in a region, so no backend needs a kernel filter of its own.
//
// Without libpcap at build time (pkg-config libpcap), the functions exist and bpfCompile throws
// with the package to install; nothing else in the addon needs libpcap.
//
// Not on any hot path: one call per captured frame in the capture tool. Programs are held by
// integer id (a JS object cannot cross isolates; an id can) and freed with bpfFree.
// Threading: compile and free take a mutex (older libpcap's compiler is not reentrant); bpfMatch
// reads an immutable program and may run on any thread.
#include <nan.h>
#ifdef TICKPATH_HAVE_PCAP
#include <pcap/pcap.h>
#endif

#include <array>
#include <atomic>
#include <mutex>
#include <string>

namespace tickpath {
namespace {

#ifdef TICKPATH_HAVE_PCAP
constexpr int kMaxPrograms = 256;
std::mutex g_bpfMutex;
std::array<std::atomic<bpf_program*>, kMaxPrograms> g_programs;
#endif

void throwEinval(const std::string& msg) {
  v8::Local<v8::Value> e = Nan::Error(msg.c_str());
  Nan::Set(e.As<v8::Object>(), Nan::New("errno").ToLocalChecked(), Nan::New(EINVAL));
  Nan::ThrowError(e);
}

#ifdef TICKPATH_HAVE_PCAP
// bpfCompile(expression, linkType, snapLength) -> program id; throws with libpcap's message.
NAN_METHOD(BpfCompile) {
  Nan::Utf8String expr(info[0]);
  int linkType = Nan::To<int32_t>(info[1]).FromMaybe(DLT_EN10MB);
  int snap = Nan::To<int32_t>(info[2]).FromMaybe(65535);
  std::lock_guard<std::mutex> g(g_bpfMutex);
  int id = -1;
  for (int i = 0; i < kMaxPrograms; i++)
    if (!g_programs[i].load(std::memory_order_relaxed)) { id = i; break; }
  if (id < 0) return throwEinval("bpfCompile: too many filters open (bpfFree the unused ones)");
  pcap_t* dead = pcap_open_dead(linkType, snap);
  if (!dead) return throwEinval("bpfCompile: pcap_open_dead failed");
  auto* prog = new bpf_program();
  // netmask unknown: "ip broadcast" is the only primitive that needs it, and libpcap says so.
  if (pcap_compile(dead, prog, *expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    std::string msg = pcap_geterr(dead);
    pcap_close(dead);
    delete prog;
    return throwEinval(msg);
  }
  pcap_close(dead);
  g_programs[id].store(prog, std::memory_order_release);
  info.GetReturnValue().Set(Nan::New(id));
}

// bpfMatch(id, bytes, offset, length, wireLength) -> the program's return (0: rejected).
NAN_METHOD(BpfMatch) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  bpf_program* prog = (id >= 0 && id < kMaxPrograms) ? g_programs[id].load(std::memory_order_acquire) : nullptr;
  if (!prog) { Nan::ThrowRangeError("no compiled filter with that id"); return; }
  if (!info[1]->IsArrayBufferView()) { Nan::ThrowTypeError("bpfMatch: bytes must be a typed array"); return; }
  auto view = info[1].As<v8::ArrayBufferView>();
  uint32_t off = Nan::To<uint32_t>(info[2]).FromMaybe(0);
  uint32_t len = Nan::To<uint32_t>(info[3]).FromMaybe(0);
  uint32_t wire = Nan::To<uint32_t>(info[4]).FromMaybe(len);
  if (static_cast<uint64_t>(off) + len > view->ByteLength()) { Nan::ThrowRangeError("bpfMatch: offset + length beyond the buffer"); return; }
  const uint8_t* base = static_cast<const uint8_t*>(view->Buffer()->Data()) + view->ByteOffset() + off;
  info.GetReturnValue().Set(Nan::New(bpf_filter(prog->bf_insns, base, wire < len ? len : wire, len)));
}

NAN_METHOD(BpfFree) {
  int id = Nan::To<int32_t>(info[0]).FromMaybe(-1);
  if (id < 0 || id >= kMaxPrograms) return;
  std::lock_guard<std::mutex> g(g_bpfMutex);
  bpf_program* prog = g_programs[id].exchange(nullptr, std::memory_order_acq_rel);
  if (prog) { pcap_freecode(prog); delete prog; }
}
#else
NAN_METHOD(BpfCompile) {
  throwEinval("capture filters need libpcap, which this addon was built without (apt-get install libpcap-dev, then npm run build:native)");
}
NAN_METHOD(BpfMatch) { Nan::ThrowRangeError("no compiled filter with that id"); }
NAN_METHOD(BpfFree) {}
#endif

void exportFn(v8::Local<v8::Object> target, const char* name, Nan::FunctionCallback fn) {
  Nan::Set(target, Nan::New(name).ToLocalChecked(), Nan::GetFunction(Nan::New<v8::FunctionTemplate>(fn)).ToLocalChecked());
}

}  // namespace

void exportBpfFns(v8::Local<v8::Object> target) {
  exportFn(target, "bpfCompile", BpfCompile);
  exportFn(target, "bpfMatch", BpfMatch);
  exportFn(target, "bpfFree", BpfFree);
}

}  // namespace tickpath
