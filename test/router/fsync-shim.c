/*
 * Power-loss observer for the durability tests, loaded with LD_PRELOAD into a child process.
 *
 * It wraps fsync and fdatasync. For a file in $TP_SHIM_WATCH (a directory), each sync first copies
 * the file as it is when the sync starts, calls the real sync, and only when that returns renames
 * the copy to $TP_SHIM_OUT/<file name>: that file is what the disk is guaranteed to hold if power
 * failed right after the last completed sync (worst case: the kernel wrote back nothing else).
 * A sync of the watched directory itself is logged as "dirsync". Every event is one line in
 * $TP_SHIM_OUT/log: "<event> <path> <start ns> <end ns> <bytes>", CLOCK_MONOTONIC (the clock of
 * Node's process.hrtime), so the test can compare it with when the child acknowledged a record.
 *
 * The answer comes from the sync calls the kernel actually received, not from the journal's own
 * counters. msync is not wrapped: the journal does not use it (a test fails if it ever shows up).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void log_line(const char* event, const char* path, uint64_t t0, uint64_t t1, long long bytes) {
  const char* out = getenv("TP_SHIM_OUT");
  if (!out) return;
  char name[PATH_MAX], line[PATH_MAX + 128];
  snprintf(name, sizeof name, "%s/log", out);
  int n = snprintf(line, sizeof line, "%s %s %llu %llu %lld\n", event, path, (unsigned long long)t0,
                   (unsigned long long)t1, bytes);
  int fd = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, line, (size_t)n) < 0) { /* nothing to do */ }
  close(fd);
}

static long long copy_file(const char* from, const char* to) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) { close(in); return -1; }
  static char buf[1 << 16];
  long long total = 0;
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    if (write(out, buf, (size_t)n) != n) break;
    total += n;
  }
  close(in);
  close(out);
  return total;
}

static int wrapped(int fd, const char* event, int (*real)(int)) {
  const char* watch = getenv("TP_SHIM_WATCH");
  const char* out = getenv("TP_SHIM_OUT");
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t len = watch && out ? readlink(link, path, sizeof path - 1) : -1;
  if (len <= 0) return real(fd);
  path[len] = 0;
  size_t wl = strlen(watch);
  if (strcmp(path, watch) == 0) {
    uint64_t t0 = now_ns();
    int rc = real(fd);
    log_line(rc == 0 ? "dirsync" : "dirsync-failed", path, t0, now_ns(), 0);
    return rc;
  }
  if (strncmp(path, watch, wl) != 0 || path[wl] != '/') return real(fd);
  const char* base = path + wl + 1;
  char tmp[PATH_MAX], snap[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s/%s.partial", out, base);
  snprintf(snap, sizeof snap, "%s/%s", out, base);
  // One sync at a time: the router's 'always' syncs and the commit thread may overlap.
  pthread_mutex_lock(&g_mu);
  uint64_t t0 = now_ns();
  long long bytes = copy_file(path, tmp);
  int rc = real(fd);
  uint64_t t1 = now_ns();
  if (rc == 0 && bytes >= 0) rename(tmp, snap);
  log_line(rc == 0 ? event : "sync-failed", path, t0, t1, bytes);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  return wrapped(fd, "fsync", real);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  return wrapped(fd, "fdatasync", real);
}

int msync(void* addr, size_t len, int flags) {
  static int (*real)(void*, size_t, int);
  if (!real) real = (int (*)(void*, size_t, int))dlsym(RTLD_NEXT, "msync");
  log_line("msync", "?", now_ns(), now_ns(), (long long)len);
  return real(addr, len, flags);
}
