#include "dpdk_env.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>

#include "backend.h"
#include "platform.h"

namespace tickpath {
namespace {
std::mutex g_ealMutex;
bool g_ealUp = false;
bool g_ealCleaned = false;
std::string g_ealArgs;

std::string join(const std::vector<std::string>& a) {
  std::string s;
  for (const auto& x : a) s += (s.empty() ? "" : " ") + x;
  return s;
}

long hugepagesFree() {
  std::ifstream f("/proc/meminfo");
  std::string k;
  long v;
  while (f >> k >> v) {
    if (k == "HugePages_Free:") return v;
    f.ignore(256, '\n');
  }
  return 0;
}
}  // namespace

int dpdkEalInit(const std::vector<std::string>& args, std::string* err) {
  std::lock_guard<std::mutex> lock(g_ealMutex);
  std::string joined = join(args);
  if (g_ealUp) {
    if (joined == g_ealArgs) return 0;
    return fail(err, EALREADY, "DPDK EAL already initialised in this process with '" + g_ealArgs +
                                   "'; it cannot be re-initialised with '" + joined +
                                   "' (fix: use the same dpdk eal options for every port, or restart the process)");
  }
  if (g_ealCleaned)
    return fail(err, EALREADY, "DPDK EAL was cleaned up in this process and cannot start again (fix: restart the process)");
  bool noHuge = joined.find("--no-huge") != std::string::npos;
  if (!noHuge && hugepagesFree() == 0)
    return fail(err, ENOMEM, "no free hugepages for DPDK (fix: sudo scripts/setup_hugepages.sh 512, or set dpdk.noHuge: true with dpdk.memoryMb)");
  if (geteuid() != 0 && !noHuge)
    return fail(err, EPERM, "DPDK with hugepages needs root or CAP_IPC_LOCK+CAP_SYS_ADMIN (fix: run as root, or use the udp backend)");
  std::vector<int> affinity = threadAffinity();
  std::vector<std::string> argvStore;
  argvStore.push_back("tickpath");
  argvStore.insert(argvStore.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argvStore) argv.push_back(s.data());
  argv.push_back(nullptr);
  int rc = rte_eal_init(static_cast<int>(argvStore.size()), argv.data());
  int e = rte_errno;
  setThreadAffinity(affinity, nullptr);
  if (rc < 0) {
    std::string why = e == EALREADY ? "EAL already initialised by someone else in this process"
                    : e == EACCES  ? "permission denied (fix: run as root)"
                    : e == ENOMEM  ? "not enough hugepage memory (fix: sudo scripts/setup_hugepages.sh 512, or lower dpdk.memoryMb)"
                    : e == EINVAL  ? "invalid EAL arguments (fix: check the dpdk section of feed_config.yml)"
                                   : std::string(rte_strerror(e));
    return fail(err, e ? e : EINVAL, "rte_eal_init(" + joined + ") failed: " + why);
  }
  g_ealUp = true;
  g_ealArgs = joined;
  return 0;
}

bool dpdkEalInitialized() { return g_ealUp; }
std::string dpdkEalArgs() { return g_ealArgs; }
bool dpdkEalCleanedUp() { return g_ealCleaned; }

void dpdkEalCleanup() {
  std::lock_guard<std::mutex> lock(g_ealMutex);
  if (!g_ealUp) return;
  rte_eal_cleanup();
  g_ealUp = false;
  g_ealCleaned = true;
}

}  // namespace tickpath
