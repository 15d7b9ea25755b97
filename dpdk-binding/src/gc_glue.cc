// Garbage-collection counts for a stage worker's health samples, with nothing allocated per GC:
// V8 calls an epilogue callback after every collection and it adds one to a Float64Array the worker
// reads once a second. (Node's 'gc' PerformanceObserver builds a JS entry per GC, which got promoted
// to old space; v8.GCProfiler builds JSON per GC and costs ~16 us per GC to read.)
//
// Threading contract: the callback runs on the isolate's own thread, after the collection (an
// epilogue, not during it), and the array is read by JS on that same thread: one thread, no atomics.
// Each attach belongs to the environment (main thread or worker) that made it and is removed when
// that environment is torn down.
#include <nan.h>
#include <node.h>

#include <memory>

namespace tickpath {
namespace {

struct GcCountSlots {
  v8::Isolate* isolate;
  std::shared_ptr<v8::BackingStore> store;  // keeps the array's memory alive after JS drops it
  double* slots;                            // [0] major (mark-compact), [1] minor (scavenge)
};

// GCType bits: kGCTypeScavenge is 1, the young-generation mark-compact 2 (its name differs across
// V8 versions), kGCTypeMarkSweepCompact 4; incremental-marking steps and weak-callback passes are
// parts of a major GC, not collections of their own.
constexpr int kMinorBits = 1 | 2;

void onGcEpilogue(v8::Isolate*, v8::GCType type, v8::GCCallbackFlags, void* data) {
  auto* c = static_cast<GcCountSlots*>(data);
  if (type & v8::kGCTypeMarkSweepCompact) c->slots[0] += 1;
  else if (type & kMinorBits) c->slots[1] += 1;
}

void detach(void* data) {
  auto* c = static_cast<GcCountSlots*>(data);
  c->isolate->RemoveGCEpilogueCallback(onGcEpilogue, c);
  delete c;
}

// gcCountsAttach(counts: Float64Array of length >= 2): from now on, every GC of this thread's
// isolate adds 1 to counts[0] (major) or counts[1] (minor), until the thread's environment exits.
NAN_METHOD(GcCountsAttach) {
  if (info.Length() < 1 || !info[0]->IsFloat64Array() || info[0].As<v8::Float64Array>()->Length() < 2) {
    return Nan::ThrowTypeError("gcCountsAttach: expected a Float64Array of at least 2 elements");
  }
  auto arr = info[0].As<v8::Float64Array>();
  v8::Isolate* isolate = info.GetIsolate();
  auto* c = new GcCountSlots{isolate, arr->Buffer()->GetBackingStore(), nullptr};
  c->slots = reinterpret_cast<double*>(static_cast<char*>(c->store->Data()) + arr->ByteOffset());
  isolate->AddGCEpilogueCallback(onGcEpilogue, c, v8::kGCTypeAll);
  node::AddEnvironmentCleanupHook(isolate, detach, c);
}

}  // namespace

void exportGcFns(v8::Local<v8::Object> target) {
  Nan::Set(target, Nan::New("gcCountsAttach").ToLocalChecked(),
           Nan::GetFunction(Nan::New<v8::FunctionTemplate>(GcCountsAttach)).ToLocalChecked());
}

}  // namespace tickpath
