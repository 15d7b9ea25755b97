// af_xdp backend: placeholder until its implementation lands; open() reports it as unavailable.
#include <cerrno>

#include "backend.h"

namespace tickpath {
namespace {
class Unimplemented final : public Backend {
 public:
  int open(const Options&, std::string* err) override {
    return fail(err, ENOSYS, "backend 'af_xdp' is not implemented in this build yet");
  }
  uint16_t rxQueues() const override { return 0; }
  const std::vector<Region>& regions() const override { return regions_; }
  uint16_t rxBurst(uint16_t, RxDesc*, uintptr_t*, uint16_t) override { return 0; }
  void release(uint16_t, const uintptr_t*, uint16_t) override {}
  uint16_t txBurst(uint16_t, const TxFrame*, uint16_t) override { return 0; }
  void deviceStats(DeviceStats*) override {}
  void close() override {}
  std::string describe() const override { return "af_xdp (unimplemented)"; }
 private:
  std::vector<Region> regions_;
};
}  // namespace
std::unique_ptr<Backend> createAfXdpBackend() { return std::make_unique<Unimplemented>(); }
}  // namespace tickpath
