// The backend registry: which backends this build has, and what to install for the others.
#include <cerrno>
#include <cstdlib>

#include "backend.h"

namespace tickpath {

const std::vector<BackendInfo>& backendRegistry() {
  static const std::vector<BackendInfo> registry = {
#ifdef TICKPATH_HAVE_DPDK
      {"dpdk", true, "", &createDpdkBackend},
#else
      {"dpdk", false,
       "install DPDK (apt-get install dpdk dpdk-dev libdpdk-dev pkg-config) then rebuild: npm run build:native",
       nullptr},
#endif
#ifdef TICKPATH_HAVE_XDP
      {"af_xdp", true, "", &createAfXdpBackend},
#else
      {"af_xdp", false,
       "install libxdp (apt-get install libxdp-dev libbpf-dev pkg-config) then rebuild: npm run build:native",
       nullptr},
#endif
      {"af_packet", true, "", &createAfPacketBackend},
      {"udp", true, "", &createUdpBackend},
      {"pcap", true, "", &createPcapBackend},
  };
  return registry;
}

std::string optString(const Options& o, const char* key, const std::string& dflt) {
  auto it = o.find(key);
  return it == o.end() ? dflt : it->second;
}

long long optInt(const Options& o, const char* key, long long dflt) {
  auto it = o.find(key);
  if (it == o.end() || it->second.empty()) return dflt;
  char* end = nullptr;
  long long v = strtoll(it->second.c_str(), &end, 0);
  return (end && *end == '\0') ? v : dflt;
}

bool optBool(const Options& o, const char* key, bool dflt) {
  auto it = o.find(key);
  if (it == o.end()) return dflt;
  return it->second == "1" || it->second == "true" || it->second == "yes";
}

int fail(std::string* err, int errnum, const std::string& msg) {
  if (err) *err = msg;
  return -(errnum > 0 ? errnum : EINVAL);
}

}  // namespace tickpath
