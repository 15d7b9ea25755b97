// The DPDK EAL, once per process: rte_eal_init from inside Node, and its cleanup at exit.
#pragma once

#include <string>
#include <vector>

namespace tickpath {

// Initialises the EAL with argv (without argv[0]) unless it already is. Calling again with the
// same arguments is a no-op; with different ones it fails with -EALREADY, because the EAL cannot
// be re-initialised in one process. Restores the calling thread's CPU affinity afterwards, so
// the Node main thread (and every thread it creates later) is not left pinned to the main lcore.
int dpdkEalInit(const std::vector<std::string>& args, std::string* err);
bool dpdkEalInitialized();
std::string dpdkEalArgs();
void dpdkEalCleanup();
bool dpdkEalCleanedUp();

}  // namespace tickpath
