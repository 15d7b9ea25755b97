// Shared-memory layouts read by JavaScript. lib/binding/layout.ts mirrors every constant here;
// test/binding/layout.test.ts checks the two agree through the addon's exported constants.
//
// Positions are 32-bit wrapping counters (JS reads them with Atomics on an Int32Array and
// `>>> 0`). Each position sits on its own 64-byte line with exactly one writer.
#pragma once

#include <cstdint>

namespace tickpath {

// ---- RX descriptor ring: producer = the queue's poller, consumer = one JS worker ----
//
// byte 0    producer line: [0] prodPos (poller writes, release order)
// byte 64   consumer line: [16] consPos (JS writes after a batch: "I am done with these slots")
// byte 128  config line (written once at open): capacity, mask, descBytes, queue, regionCount
// byte 192  counters line (poller writes, relaxed): kQueueCounterCount u64, indexed by QueueCounter
// byte 256  descriptors: capacity * 32 bytes
constexpr uint32_t kRingHeaderBytes = 256;
constexpr uint32_t kProdPosI32 = 0;
constexpr uint32_t kConsPosI32 = 16;
constexpr uint32_t kCapacityI32 = 32;
constexpr uint32_t kMaskI32 = 33;
constexpr uint32_t kDescBytesI32 = 34;
constexpr uint32_t kQueueI32 = 35;
constexpr uint32_t kStateI32 = 36;  // 1 running, 2 stopped (poller writes)
constexpr uint32_t kEofI32 = 38;    // 1 once the source will deliver nothing more (a file replay ended)
constexpr uint32_t kCountersByte = 192;  // u64 counter i at kCountersByte + 8 * i (QueueCounter below)

// ---- Per-queue counters: the one list. Index, name and meaning are written here only: the enum,
// the names stats() reports (glue.cc) and the `queueCounters` export that lib/binding/layout.ts
// mirrors (checked by test/binding/layout.test.ts) are all generated from it.
// Single writer: the queue's poller (relaxed stores after each burst). Readers: any thread.
#define TICKPATH_QUEUE_COUNTERS(X)                                                                     \
  X(kCtrRxPackets, "rxPackets")         /* packets published on the RX ring */                         \
  X(kCtrRxBytes, "rxBytes")             /* their captured bytes */                                     \
  X(kCtrRingFullDrops, "ringFullDrops") /* received while the RX ring was full: dropped, not queued */ \
  X(kCtrTruncated, "truncated")         /* captured length < wire length (snap length, slot size) */   \
  X(kCtrTxPackets, "txPackets")         /* frames the device took */                                   \
  X(kCtrTxBytes, "txBytes")             /* their bytes */                                              \
  X(kCtrTxFailed, "txFailed")           /* refused by the device for good (link down, too long for     \
                                           the link): consumed and dropped, never retried */           \
  X(kCtrTxOversize, "txOversize")       /* longer than the TX slot or the device's largest frame:     \
                                           consumed and dropped before reaching the device */

enum QueueCounter : uint32_t {
#define TICKPATH_COUNTER_ENUM(id, name) id,
  TICKPATH_QUEUE_COUNTERS(TICKPATH_COUNTER_ENUM)
#undef TICKPATH_COUNTER_ENUM
  kQueueCounterCount
};
static_assert(kCountersByte + kQueueCounterCount * 8 <= kRingHeaderBytes, "counters fit their line");

constexpr const char* kQueueCounterNames[kQueueCounterCount] = {
#define TICKPATH_COUNTER_NAME(id, name) name,
    TICKPATH_QUEUE_COUNTERS(TICKPATH_COUNTER_NAME)
#undef TICKPATH_COUNTER_NAME
};

// RX descriptor: 32 bytes. Fields are u32 so JS reads them with one Uint32Array index each.
struct RxDesc {
  uint32_t offset;   // packet's first byte within region
  uint16_t region;   // index into the backend's regions
  uint16_t flags;    // kRxFlag*
  uint32_t len;      // bytes readable at offset
  uint32_t wireLen;  // length on the wire
  uint32_t tsLo;     // RX timestamp, ns: low/high halves (JS: hi * 2**32 + lo, exact below 2**53)
  uint32_t tsHi;
  uint32_t queue;
  uint32_t aux;      // backend-specific (pcap: 1-based frame number)
};
static_assert(sizeof(RxDesc) == 32, "RxDesc is 32 bytes");
constexpr uint32_t kDescWords = 8;  // u32 per descriptor
constexpr uint32_t kDescOffsetW = 0, kDescRegionFlagsW = 1, kDescLenW = 2, kDescWireLenW = 3,
                   kDescTsLoW = 4, kDescTsHiW = 5, kDescQueueW = 6, kDescAuxW = 7;

constexpr uint16_t kRxFlagTruncated = 1;  // len < wireLen
constexpr uint16_t kRxFlagTsHw = 2;       // timestamp from the NIC
constexpr uint16_t kRxFlagTsSw = 4;       // timestamp from the kernel
constexpr uint16_t kRxFlagTsFile = 8;     // timestamp from a capture file (epoch ns)
constexpr uint16_t kRxFlagTsPoll = 16;    // CLOCK_MONOTONIC when the poller saw it
constexpr uint16_t kRxFlagL4Payload = 32; // the bytes are a UDP payload (udp backend), not an Ethernet frame

// ---- TX ring: producer = one JS worker, consumer = the queue's poller ----
// Same header; descriptors are 8 bytes: u32 slot, u32 len. Slots live in one TX region of
// slotCount * slotBytes; a slot may be rewritten once consPos has passed its descriptor.
constexpr uint32_t kTxDescWords = 2;
constexpr uint32_t kTxSlotBytesI32 = 37;

}  // namespace tickpath
