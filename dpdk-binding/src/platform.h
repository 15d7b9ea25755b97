// Thread placement, CPU/NUMA layout and the shared clock. No V8 here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tickpath {

// Pins the calling thread (only it) to one CPU. Returns 0 or a negative errno.
int pinThread(int cpu, std::string* err);
// CPUs the calling thread may run on.
std::vector<int> threadAffinity();
// Restores the calling thread's affinity to the given set.
int setThreadAffinity(const std::vector<int>& cpus, std::string* err);
long currentTid();
// "0-3,6" -> {0,1,2,3,6}; empty string -> {}.
std::vector<int> parseCpuList(const std::string& s);
// NUMA node of a CPU from sysfs (-1 when unknown).
int numaNodeOfCpu(int cpu);
// CLOCK_MONOTONIC in ns: the one clock native pollers and JS workers share (JS reads it through
// the addon's nowNs() or process.hrtime.bigint(), which is CLOCK_MONOTONIC on Linux too).
uint64_t monotonicNs();
// CLOCK_REALTIME minus CLOCK_MONOTONIC, now: converts kernel software RX stamps (CLOCK_REALTIME)
// into the monotonic domain every descriptor uses, so latency is one subtraction in JS.
int64_t realtimeOffsetNs();

}  // namespace tickpath

#include <memory>
namespace tickpath {
// Maps a file (created with `bytes` when create is set) MAP_SHARED read-write: how a separate
// process (tickpath monitor) reads live stats from /dev/shm without touching the hot path.
std::shared_ptr<void> mapSharedFile(const std::string& path, size_t bytes, bool create, void** out,
                                    size_t* outBytes, std::string* err);
}  // namespace tickpath
