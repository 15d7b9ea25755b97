#include "platform.h"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tickpath {

int pinThread(int cpu, std::string* err) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  if (rc != 0) {
    if (err) *err = "cannot pin thread to CPU " + std::to_string(cpu) + ": " + strerror(rc) +
                    " (fix: pick a CPU listed by `tickpath doctor` or allowed by the container's cpuset)";
    return -rc;
  }
  return 0;
}

std::vector<int> threadAffinity() {
  std::vector<int> out;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (pthread_getaffinity_np(pthread_self(), sizeof(set), &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

int setThreadAffinity(const std::vector<int>& cpus, std::string* err) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  if (rc != 0 && err) *err = std::string("cannot set thread affinity: ") + strerror(rc);
  return -rc;
}

long currentTid() { return static_cast<long>(syscall(SYS_gettid)); }

std::vector<int> parseCpuList(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) continue;
    auto dash = part.find('-');
    try {
      if (dash == std::string::npos) {
        out.push_back(std::stoi(part));
      } else {
        int a = std::stoi(part.substr(0, dash)), b = std::stoi(part.substr(dash + 1));
        for (int c = a; c <= b; c++) out.push_back(c);
      }
    } catch (...) {
      // lib/ validates CPU lists before they reach native code; ignore junk here.
    }
  }
  return out;
}

int numaNodeOfCpu(int cpu) {
  for (int node = 0; node < 64; node++) {
    std::string path = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/node" + std::to_string(node);
    if (access(path.c_str(), F_OK) == 0) return node;
  }
  return -1;
}

int64_t realtimeOffsetNs() {
  struct timespec r, m;
  clock_gettime(CLOCK_MONOTONIC, &m);
  clock_gettime(CLOCK_REALTIME, &r);
  return (static_cast<int64_t>(r.tv_sec) - m.tv_sec) * 1000000000ll + (static_cast<int64_t>(r.tv_nsec) - m.tv_nsec);
}

uint64_t monotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace tickpath

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

namespace tickpath {

std::shared_ptr<void> mapSharedFile(const std::string& path, size_t bytes, bool create, void** out,
                                    size_t* outBytes, std::string* err) {
  int fd = ::open(path.c_str(), create ? (O_RDWR | O_CREAT | O_CLOEXEC) : (O_RDWR | O_CLOEXEC), 0644);
  if (fd < 0) {
    *err = "cannot open " + path + ": " + strerror(errno) +
           (create ? "" : " (fix: is the tickpath instance running? `tickpath run` creates it)");
    return nullptr;
  }
  struct stat st;
  fstat(fd, &st);
  size_t len = create ? bytes : static_cast<size_t>(st.st_size);
  if (create && ftruncate(fd, static_cast<off_t>(len)) != 0) {
    *err = "cannot size " + path + ": " + strerror(errno);
    ::close(fd);
    return nullptr;
  }
  if (len == 0) {
    *err = path + " is empty";
    ::close(fd);
    return nullptr;
  }
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) {
    *err = "cannot map " + path + ": " + strerror(errno);
    return nullptr;
  }
  *out = p;
  *outBytes = len;
  return std::shared_ptr<void>(p, [len](void* m) { munmap(m, len); });
}

}  // namespace tickpath
