/*
 * Reference ITCH 5.0 decoder in C for perf/decode.ts: the conventional way to do it, one struct per
 * message filled with every field and a switch on the type byte, over MoldUDP64 packets.
 *
 * Input: a file of records [u16 big-endian length][MoldUDP64 packet]. It decodes the whole file
 * `iterations` times and prints "messages ns checksum" for the best iteration. The checksum folds the
 * same numeric fields the TypeScript benchmark folds, so the two runs prove they decoded the same
 * values (and the compiler cannot drop the work).
 *   cc -O2 -o itch_ref itch_ref.c && ./itch_ref session.bin 5
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint32_t u16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static inline uint32_t u32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline uint64_t u48(const uint8_t *p) { return (uint64_t)u16(p) << 32 | u32(p + 2); }
static inline uint64_t u64(const uint8_t *p) { return (uint64_t)u32(p) << 32 | u32(p + 4); }

struct header { char type; uint16_t stock_locate, tracking_number; uint64_t timestamp; };
struct add_order { struct header h; uint64_t order_reference_number; char buy_sell_indicator; uint32_t shares; char stock[8]; uint32_t price; char attribution[4]; };
struct order_executed { struct header h; uint64_t order_reference_number; uint32_t executed_shares; uint64_t match_number; char printable; uint32_t execution_price; };
struct order_cancel { struct header h; uint64_t order_reference_number; uint32_t cancelled_shares; };
struct order_delete { struct header h; uint64_t order_reference_number; };
struct order_replace { struct header h; uint64_t original_order_reference_number, new_order_reference_number; uint32_t shares, price; };
struct trade { struct header h; uint64_t order_reference_number; char buy_sell_indicator; uint32_t shares; char stock[8]; uint32_t price; uint64_t match_number; };

static uint32_t acc;
static inline void fold(uint32_t v) { acc = acc * 31u + v; }

static void header(struct header *h, const uint8_t *m) {
  h->type = (char)m[0]; h->stock_locate = (uint16_t)u16(m + 1); h->tracking_number = (uint16_t)u16(m + 3); h->timestamp = u48(m + 5);
  fold(h->stock_locate); fold(h->tracking_number); fold((uint32_t)h->timestamp);
}

/* Returns 1 if the message was decoded. */
static int decode(const uint8_t *m, uint32_t len) {
  if (len == 0) return 0;
  switch (m[0]) {
  case 'A': case 'F': {
    if (len < (m[0] == 'A' ? 36u : 40u)) return 0;
    struct add_order a; header(&a.h, m);
    a.order_reference_number = u64(m + 11); a.buy_sell_indicator = (char)m[19]; a.shares = u32(m + 20);
    memcpy(a.stock, m + 24, 8); a.price = u32(m + 32);
    if (m[0] == 'F') memcpy(a.attribution, m + 36, 4);
    fold((uint32_t)a.order_reference_number); fold(a.buy_sell_indicator == 'B'); fold(a.shares); fold(a.price);
    return 1;
  }
  case 'E': case 'C': {
    if (len < (m[0] == 'E' ? 31u : 36u)) return 0;
    struct order_executed e; header(&e.h, m);
    e.order_reference_number = u64(m + 11); e.executed_shares = u32(m + 19); e.match_number = u64(m + 23);
    fold((uint32_t)e.order_reference_number); fold(e.executed_shares); fold((uint32_t)e.match_number);
    if (m[0] == 'C') { e.printable = (char)m[31]; e.execution_price = u32(m + 32); fold(e.execution_price); }
    return 1;
  }
  case 'X': {
    if (len < 23) return 0;
    struct order_cancel x; header(&x.h, m);
    x.order_reference_number = u64(m + 11); x.cancelled_shares = u32(m + 19);
    fold((uint32_t)x.order_reference_number); fold(x.cancelled_shares);
    return 1;
  }
  case 'D': {
    if (len < 19) return 0;
    struct order_delete d; header(&d.h, m);
    d.order_reference_number = u64(m + 11);
    fold((uint32_t)d.order_reference_number);
    return 1;
  }
  case 'U': {
    if (len < 35) return 0;
    struct order_replace u; header(&u.h, m);
    u.original_order_reference_number = u64(m + 11); u.new_order_reference_number = u64(m + 19);
    u.shares = u32(m + 27); u.price = u32(m + 31);
    fold((uint32_t)u.original_order_reference_number); fold((uint32_t)u.new_order_reference_number); fold(u.shares); fold(u.price);
    return 1;
  }
  case 'P': {
    if (len < 44) return 0;
    struct trade p; header(&p.h, m);
    p.order_reference_number = u64(m + 11); p.buy_sell_indicator = (char)m[19]; p.shares = u32(m + 20);
    memcpy(p.stock, m + 24, 8); p.price = u32(m + 32); p.match_number = u64(m + 36);
    fold((uint32_t)p.order_reference_number); fold(p.buy_sell_indicator == 'B'); fold(p.shares); fold(p.price); fold((uint32_t)p.match_number);
    return 1;
  }
  default:
    return 0;
  }
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s session.bin iterations\n", argv[0]); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  fseek(f, 0, SEEK_END); long size = ftell(f); fseek(f, 0, SEEK_SET);
  uint8_t *data = malloc((size_t)size);
  if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) { fprintf(stderr, "read failed\n"); return 1; }
  fclose(f);
  int iterations = atoi(argv[2]);
  double best = 1e300; uint64_t messages = 0; uint32_t checksum = 0;
  for (int it = 0; it < iterations; it++) {
    struct timespec t0, t1;
    acc = 0; messages = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long p = 0; p + 2 <= size;) {
      uint32_t plen = u16(data + p); const uint8_t *pkt = data + p + 2; p += 2 + plen;
      if (plen < 20) continue;
      uint32_t count = u16(pkt + 18);
      if (count == 0xffff) continue;
      uint32_t at = 20;
      for (uint32_t i = 0; i < count && at + 2 <= plen; i++) {
        uint32_t mlen = u16(pkt + at);
        if (at + 2 + mlen > plen) break;
        messages += (uint64_t)decode(pkt + at + 2, mlen);
        at += 2 + mlen;
      }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    if (ns < best) best = ns;
    checksum = acc;
  }
  printf("%llu %.0f %u\n", (unsigned long long)messages, best, checksum);
  free(data);
  return 0;
}
