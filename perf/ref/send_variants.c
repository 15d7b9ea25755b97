// send_variants.c: what the order's send(2) costs by where the receiving TCP stack runs, the
// sender and receiver as separate processes so the receiver can live in a network namespace behind a
// veth pair ("another host"). perf/ref/send-variants.sh runs the matrix side by side; this is one
// end of one variant. Reference for perf:latency's order_syscall; not part of the build.
//   cc -O2 -o /tmp/send_variants perf/ref/send_variants.c
//   recv MODE CPU ADDR PORT [BUSY_POLL_US]      MODE block (epoll) | spin (non-blocking recv loop)
//                                               | busypoll (blocking recv with SO_BUSY_POLL and
//                                               SO_PREFER_BUSY_POLL: polls the device's NAPI itself)
//                                               | spinpoll (non-blocking recv loop, each call one
//                                               busy-poll pass with SO_PREFER_BUSY_POLL)
//                                               | epollbusy (epoll with EPIOCSPARAMS busy poll
//                                               BUSY_POLL_US, prefer: what venue-sim's
//                                               --epoll-busy-poll does, Linux 6.9+)
//   send CPU ADDR PORT INTERVAL_US THRASH_MB N FLAGS   FLAGS 0 | dontwait | more
// The sender spins between sends (the stage worker does), walking THRASH_MB of memory (the books
// evicting the kernel's code and data), and times each send(2) with CLOCK_MONOTONIC; every message
// carries its send(2) entry time, so the receiver reports the one-way delivery time (send(2) entry
// to its recv() returning; same clock, same machine). Each prints one JSON line at the end.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sys/ioctl.h>
#ifndef EPIOCSPARAMS
struct epoll_params { uint32_t busy_poll_usecs; uint16_t busy_poll_budget; uint8_t prefer_busy_poll; uint8_t pad; };
#define EPIOCSPARAMS _IOW(0x8A, 0x01, struct epoll_params)
#endif
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#define kMsg 52  // an OUCH Enter Order in its SoupBinTCP frame is ~52 bytes

static inline uint64_t now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000ull + t.tv_nsec; }
static void pin(int c) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(c, &s); if (sched_setaffinity(0, sizeof s, &s)) perror("sched_setaffinity"); }
static int cmp(const void *a, const void *b) { uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b; return x < y ? -1 : x > y; }
static void die(const char *w) { perror(w); exit(1); }

static int do_recv(int argc, char **argv) {
  if (argc < 6) return 2;
  const char *mode = argv[2]; int cpu = atoi(argv[3]); int bp = argc > 6 ? atoi(argv[6]) : 50;
  pin(cpu);
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[5])) };
  inet_pton(AF_INET, argv[4], &a.sin_addr);
  if (bind(l, (void *)&a, sizeof a) || listen(l, 1)) die("bind/listen");
  printf("listening\n"); fflush(stdout);
  int fd = accept(l, 0, 0);
  if (fd < 0) die("accept");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int ep = -1;
  if (!strcmp(mode, "spinpoll")) {
    // non-blocking recv, each call one busy-poll pass over the device's NAPI (needs a NAPI id on the
    // socket: veth with GRO on); prefer: the pass re-arms the device's deferral (napi_defer_hard_irqs,
    // gro_flush_timeout), so the sender's veth_xmit finds its notification masked and wakes nobody.
    if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &bp, sizeof bp)) perror("SO_BUSY_POLL");
    if (setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof one)) perror("SO_PREFER_BUSY_POLL");
    fcntl(fd, F_SETFL, O_NONBLOCK);
  } else if (!strcmp(mode, "busypoll")) {
    if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &bp, sizeof bp)) perror("SO_BUSY_POLL");
    if (setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof one)) perror("SO_PREFER_BUSY_POLL");
  } else {
    fcntl(fd, F_SETFL, O_NONBLOCK);
    if (!strcmp(mode, "block") || !strcmp(mode, "epollbusy")) {
      ep = epoll_create1(0);
      struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
      if (!strcmp(mode, "epollbusy")) {
        struct epoll_params p = { .busy_poll_usecs = (uint32_t)bp, .busy_poll_budget = 8, .prefer_busy_poll = 1 };
        if (ioctl(ep, EPIOCSPARAMS, &p)) perror("EPIOCSPARAMS");
      }
    }
  }
  size_t cap = 1 << 20, n = 0; uint64_t *d = malloc(cap * sizeof *d);
  char buf[kMsg * 64]; size_t have = 0;
  for (;;) {
    if (ep >= 0) { struct epoll_event o; if (epoll_wait(ep, &o, 1, -1) < 0 && errno != EINTR) break; }
    ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
    if (r == 0) break;
    if (r < 0) { if (errno == EAGAIN || errno == EINTR) continue; break; }
    uint64_t t = now(); have += (size_t)r;
    size_t off = 0;
    for (; have - off >= kMsg; off += kMsg) { uint64_t t0; memcpy(&t0, buf + off, 8); if (t0 && n < cap) d[n++] = t - t0; }
    memmove(buf, buf + off, have - off); have -= off;
  }
  qsort(d, n, sizeof *d, cmp);
  if (n == 0) { printf("{\"deliveries\":0}\n"); return 0; }
  printf("{\"mode\":\"%s\",\"cpu\":%d,\"deliveries\":%zu,\"deliver_p50_ns\":%llu,\"deliver_p99_ns\":%llu}\n", mode, cpu, n,
         (unsigned long long)d[n / 2], (unsigned long long)d[n * 99 / 100]);
  return 0;
}

static int do_send(int argc, char **argv) {
  if (argc < 9) return 2;
  int cpu = atoi(argv[2]); int iv = atoi(argv[5]); int mb = atoi(argv[6]); int n = atoi(argv[7]);
  int flags = !strcmp(argv[8], "dontwait") ? MSG_DONTWAIT : !strcmp(argv[8], "more") ? MSG_MORE : 0;
  pin(cpu);
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[4])) };
  inet_pton(AF_INET, argv[3], &a.sin_addr);
  for (int tries = 0; connect(fd, (void *)&a, sizeof a); tries++) {
    if (tries > 200) die("connect");
    close(fd); fd = socket(AF_INET, SOCK_STREAM, 0); usleep(10000);
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char *junk = mb ? malloc((size_t)mb << 20) : 0;
  if (junk) memset(junk, 1, (size_t)mb << 20);
  char msg[kMsg]; memset(msg, 'O', sizeof msg);
  uint64_t *d = malloc(n * sizeof *d); volatile uint64_t sink = 0;
  usleep(100000);
  for (int i = 0; i < n + 100; i++) {
    uint64_t until = now() + (uint64_t)iv * 1000;
    while (now() < until) {  // the "stage" between orders: walk memory (books)
      if (junk) for (size_t o = ((size_t)i * 4096) % ((size_t)mb << 20), k = 0; k < 64; k++, o = (o + 4096 + 64) % ((size_t)mb << 20)) sink += junk[o];
    }
    uint64_t t0 = now();
    memcpy(msg, &t0, 8);
    send(fd, msg, sizeof msg, flags);
    uint64_t t1 = now();
    // MSG_MORE corks: the bytes stay queued on the socket and leave with the next send (1 interval
    // later): what tcp_sendmsg costs without the transmit, i.e. the floor of the call. Not an order.
    if (i >= 100) d[i - 100] = t1 - t0;
  }
  close(fd);
  qsort(d, n, sizeof *d, cmp);
  printf("{\"tx_cpu\":%d,\"interval_us\":%d,\"thrash_mb\":%d,\"flags\":\"%s\",\"n\":%d,\"send_p50_ns\":%llu,\"send_p90_ns\":%llu,\"send_p99_ns\":%llu}\n",
         cpu, iv, mb, argv[8], n, (unsigned long long)d[n / 2], (unsigned long long)d[n * 9 / 10], (unsigned long long)d[n * 99 / 100]);
  return (int)(sink & 0);
}

int main(int argc, char **argv) {
  int rc = argc > 1 && !strcmp(argv[1], "recv") ? do_recv(argc, argv) : argc > 1 && !strcmp(argv[1], "send") ? do_send(argc, argv) : 2;
  if (rc == 2) fprintf(stderr, "usage: recv MODE CPU ADDR PORT [BUSY_POLL_US] | send CPU ADDR PORT INTERVAL_US THRASH_MB N FLAGS\n");
  return rc;
}
