// pcap backend: a capture file mapped read-only and replayed as packets, zero-copy.
//
// The whole file is one region; descriptors point at each record's bytes in the mapping, so JS
// reads packets exactly where the file put them. Classic pcap only (microsecond magic a1b2c3d4 and
// nanosecond magic a1b23c4d, either byte order), Ethernet link type; VLAN tags are the decoder's
// business. Replay: as fast as possible, at recorded pace, or a multiple of it, any number of loops.
// TX (option tx_file) appends what is sent to a pcap file, so the same code path can "transmit"
// without a NIC; with rx=0 the port only transmits and the file is not replayed.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "backend.h"
#include "platform.h"

namespace tickpath {
namespace {

constexpr uint32_t kMagicUs = 0xa1b2c3d4, kMagicNs = 0xa1b23c4d;
constexpr uint32_t kMagicUsSwapped = 0xd4c3b2a1, kMagicNsSwapped = 0x4d3cb2a1;
constexpr uint32_t kMagicPcapng = 0x0a0d0d0a;
constexpr uint32_t kLinkEthernet = 1;
constexpr uint32_t kTxSnapLen = 65535;

struct Record {
  uint32_t offset;
  uint32_t capLen;
  uint32_t wireLen;
  uint64_t tsNs;
};

class PcapBackend final : public Backend {
 public:
  ~PcapBackend() override { close(); }

  int open(const Options& o, std::string* err) override {
    path_ = optString(o, "file", "");
    if (path_.empty()) return fail(err, EINVAL, "pcap backend needs option 'file' (a .pcap path)");
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return fail(err, errno, "cannot open pcap file '" + path_ + "': " + strerror(errno) +
                                  " (fix: check the path and its permissions)");
    struct stat st;
    fstat(fd, &st);
    size_t len = static_cast<size_t>(st.st_size);
    if (len < 24) {
      ::close(fd);
      return fail(err, EPROTO, "pcap file '" + path_ + "' is " + std::to_string(len) +
                                   " bytes, shorter than the 24-byte pcap header (fix: the capture is truncated or not a pcap; re-capture or repair it with pcapfix)");
    }
    void* m = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (m == MAP_FAILED) return fail(err, errno, "cannot map pcap file '" + path_ + "': " + strerror(errno));
    auto owner = std::shared_ptr<void>(m, [len](void* p) { munmap(p, len); });
    const auto* b = static_cast<const uint8_t*>(m);
    uint32_t magic;
    memcpy(&magic, b, 4);
    bool swapped = magic == kMagicUsSwapped || magic == kMagicNsSwapped;
    bool nanos = magic == kMagicNs || magic == kMagicNsSwapped;
    if (magic == kMagicPcapng)
      return fail(err, EPROTO, "'" + path_ + "' is pcapng, not classic pcap (fix: editcap -F pcap '" + path_ + "' out.pcap)");
    if (!swapped && !nanos && magic != kMagicUs)
      return fail(err, EPROTO, "'" + path_ + "' is not a pcap file (magic 0x" + hex(magic) +
                                   ") (fix: give a classic pcap capture; convert others with editcap -F pcap)");
    uint32_t link = rd32(b + 20, swapped) & 0x0fffffff;
    if (link != kLinkEthernet)
      return fail(err, EPROTO, "pcap file '" + path_ + "' has link type " + std::to_string(link) +
                                   ", only 1 (Ethernet) is supported (fix: re-capture on an Ethernet interface, or convert with editcap -T ether)");
    bool allowTruncated = optBool(o, "allow_truncated", false);
    // rx=0: a port that only transmits (tx_file) does not replay its file; rxDone() is true at once.
    size_t off = optBool(o, "rx", true) ? 24 : len;
    uint32_t frame = 0;
    while (off < len) {
      frame++;
      if (off + 16 > len || off + 16 + rd32(b + off + 8, swapped) > len) {
        if (!allowTruncated)
          return fail(err, EPROTO, "pcap file '" + path_ + "' is truncated in frame " + std::to_string(frame) +
                                       " at byte " + std::to_string(off) +
                                       " (fix: repair it with pcapfix, or pass allow_truncated to replay the complete frames)");
        malformed_++;
        break;
      }
      uint32_t sec = rd32(b + off, swapped), frac = rd32(b + off + 4, swapped);
      Record r;
      r.capLen = rd32(b + off + 8, swapped);
      r.wireLen = rd32(b + off + 12, swapped);
      r.offset = static_cast<uint32_t>(off + 16);
      r.tsNs = static_cast<uint64_t>(sec) * 1000000000ull + (nanos ? frac : static_cast<uint64_t>(frac) * 1000ull);
      records_.push_back(r);
      off += 16 + r.capLen;
    }
    if (len > 0xffffffffull)
      return fail(err, EFBIG, "pcap file '" + path_ + "' is over 4 GiB (fix: split it with editcap -c)");
    regions_.push_back(Region{m, len, false, owner});
    loops_ = optInt(o, "loops", 1);
    std::string pace = optString(o, "pace", "fast");
    speed_ = pace == "fast" ? 0.0 : pace == "recorded" ? 1.0 : atof(pace.c_str());
    if (pace != "fast" && !(speed_ > 0))
      return fail(err, EINVAL, "pcap option pace='" + pace + "': expected fast, recorded or a speed multiple such as 2.5");
    fileTs_ = optString(o, "timestamps", "poll") == "file";
    lossy_ = optBool(o, "lossy", false);
    std::string tx = optString(o, "tx_file", "");
    if (!tx.empty()) {
      txFile_ = fopen(tx.c_str(), "wb");
      if (!txFile_) return fail(err, errno, "cannot create tx_file '" + tx + "': " + strerror(errno));
      uint32_t hdr[6] = {kMagicNs, 0x00040002u, 0, 0, kTxSnapLen, kLinkEthernet};
      fwrite(hdr, 1, 24, txFile_);
    }
    return 0;
  }

  uint16_t rxQueues() const override { return 1; }
  const std::vector<Region>& regions() const override { return regions_; }

  uint16_t rxBurst(uint16_t q, RxDesc* d, uintptr_t* h, uint16_t max) override {
    if (records_.empty()) return 0;
    uint16_t n = 0;
    uint64_t now = speed_ > 0 ? monotonicNs() : 0;
    while (n < max) {
      if (next_ == records_.size()) {
        if (loops_ > 0 && ++loopsDone_ >= loops_) break;
        next_ = 0;
        loopBaseNs_ += records_.back().tsNs - records_.front().tsNs + 1;
      }
      const Record& r = records_[next_];
      if (speed_ > 0) {
        if (startMono_ == 0) startMono_ = now;
        uint64_t due = startMono_ + static_cast<uint64_t>((loopBaseNs_ + r.tsNs - records_.front().tsNs) / speed_);
        if (now < due) break;
      }
      // Timestamp: CLOCK_MONOTONIC at replay (what latency is measured against, like a live
      // backend), or with timestamps=file the capture time. The capture time is always in the
      // record header, the 16 bytes before the packet in the same region.
      uint64_t ts = fileTs_ ? r.tsNs : (now ? now : (now = monotonicNs()));
      d[n] = RxDesc{r.offset, 0, static_cast<uint16_t>((fileTs_ ? kRxFlagTsFile : kRxFlagTsPoll) | (r.capLen < r.wireLen ? kRxFlagTruncated : 0)),
                    r.capLen, r.wireLen, static_cast<uint32_t>(ts), static_cast<uint32_t>(ts >> 32), q,
                    static_cast<uint32_t>(next_ + 1)};
      h[n] = 0;
      n++;
      next_++;
    }
    return n;
  }

  void release(uint16_t, const uintptr_t*, uint16_t) override {}  // the file stays mapped

  // A replayed file waits for a slow consumer (unless lossy, which emulates a NIC's drops).
  bool holdsWhenFull() const override { return !lossy_; }

  int txBurst(uint16_t, const TxFrame* f, uint16_t n) override {
    if (!txFile_) return n;  // no tx_file: frames are consumed and counted, like net_null
    uint64_t ts = monotonicNs();
    for (uint16_t i = 0; i < n; i++) {
      uint32_t rec[4] = {static_cast<uint32_t>(ts / 1000000000ull), static_cast<uint32_t>(ts % 1000000000ull), f[i].len, f[i].len};
      if (__builtin_expect(fwrite(rec, 1, 16, txFile_) != 16 || fwrite(f[i].data, 1, f[i].len, txFile_) != f[i].len, 0))
        return i ? i : -(errno ? errno : EIO);  // disk full: what was written counts, the rest fails
    }
    return n;
  }

  // The snap length written in the tx_file header.
  uint32_t txMaxFrame() const override { return kTxSnapLen; }

  bool rxDone(uint16_t) const override {
    return records_.empty() || (next_ == records_.size() && loops_ > 0 && loopsDone_ + 1 >= loops_);
  }

  void deviceStats(DeviceStats* out) override { out->malformed = malformed_; }

  void close() override {
    if (txFile_) {
      fclose(txFile_);
      txFile_ = nullptr;
    }
  }

  std::string describe() const override {
    return "pcap file " + path_ + " (" + std::to_string(records_.size()) + " frames, pace " +
           (speed_ > 0 ? std::to_string(speed_) + "x" : std::string("fast")) + ", loops " +
           std::to_string(loops_) + ")";
  }

 private:
  static uint32_t rd32(const uint8_t* p, bool swapped) {
    uint32_t v;
    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
  }
  static std::string hex(uint32_t v) {
    char buf[16];
    snprintf(buf, sizeof buf, "%08x", v);
    return buf;
  }

  std::string path_;
  std::vector<Region> regions_;
  std::vector<Record> records_;
  size_t next_ = 0;
  long long loops_ = 1, loopsDone_ = 0;
  double speed_ = 0;
  uint64_t startMono_ = 0, loopBaseNs_ = 0;
  uint64_t malformed_ = 0;
  FILE* txFile_ = nullptr;
  bool fileTs_ = false;
  bool lossy_ = false;
};

}  // namespace

std::unique_ptr<Backend> createPcapBackend() { return std::make_unique<PcapBackend>(); }

}  // namespace tickpath
