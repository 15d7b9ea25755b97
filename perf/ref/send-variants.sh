#!/usr/bin/env bash
# send-variants.sh: the order's send(2) by where the receiving TCP stack runs, each variant beside
# the others in rounds (variant 1..V, then again), so the machine's load falls on all of them alike.
# The receiver is perf/ref/send_variants.c's `recv` in its own process: on loopback, or in a network
# namespace behind a veth pair (a real kernel interface: "the venue on another host"), with the
# namespace side's GRO off (veth hands the packet to netif_rx: the TCP receive runs in softirq on the
# sender's CPU, as on loopback), GRO on (NAPI, still raised on the sender's CPU), or GRO on with
# threaded NAPI (/sys/class/net/DEV/threaded: the receive runs in the napi/DEV kthread, pinned to
# the receiver's CPU, so the sender's call ends at veth_xmit plus that kthread's wakeup).
# Root only (namespaces); names carry "sendsys" and the pid, removed at exit.
#   perf/ref/send-variants.sh [ROUNDS] [N] [INTERVAL_US] [THRASH_MB]     (defaults 3 1000 1000 32)
#   VARIANTS="lo-spin veth-threaded-spin" perf/ref/send-variants.sh      (a subset)
#   TRACE=1 ...: round 1 of each variant is also traced (ftrace events in an instance of its own,
#   sender's pid only; tracing adds ~1-2 us a send): where inside send(2) the time goes, mean
#   per send: TCP/IP down to the device's start_xmit, the driver's xmit (loopback_xmit/veth_xmit),
#   the NET_RX softirq run at local_bh_enable (the receiver's TCP receive), wakeups and IPIs sent.
# Sender on CPU 0 (the stage worker's), receivers on CPU 1. Last line: JSON (per variant, the
# median over rounds of each round's p50/p99).
set -euo pipefail
rounds=${1:-3} n=${2:-1000} iv=${3:-1000} mb=${4:-32}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=send-trace-lib.sh
source "$here/send-trace-lib.sh"
bin=$(mktemp -d /tmp/sendsys-variants-XXXXXX)
ns="sendsys-$$" host_if="sendsys$$h" ns_if="sendsys$$n"
cleanup() {
  [[ -d "${ti:-}" ]] && { echo 0 > "$ti/events/enable"; rmdir "$ti"; } 2>/dev/null || true
  [[ -n "${rx_pid:-}" ]] && kill "$rx_pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$host_if" 2>/dev/null || true
  [[ -n "${KEEP:-}" ]] || rm -rf "$bin"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[[ $(id -u) == 0 ]] || { echo "send-variants.sh: needs root (network namespaces); fix: run it with sudo" >&2; exit 1; }
cc -O2 -o "$bin/sv" "$here/send_variants.c"

# 10.213.X.0/30 from the pid, so two runs at once do not collide.
sub=$(( $$ % 250 + 1 ))
ip netns add "$ns"
ip link add "$host_if" type veth peer name "$ns_if" netns "$ns"
ip addr add "10.213.$sub.1/30" dev "$host_if"
ip link set "$host_if" up
ip -n "$ns" addr add "10.213.$sub.2/30" dev "$ns_if"
ip -n "$ns" link set "$ns_if" up
ip -n "$ns" link set lo up
peer="10.213.$sub.2"

# veth receive side: off = GRO off (netif_rx, softirq on the sender's CPU), gro = NAPI in softirq
# on the sender's CPU, threaded = NAPI in its kthread pinned to CPU 1.
veth_mode() {
  local gro=off thr=0 defer=0 flush=0
  case $1 in gro) gro=on ;; threaded) gro=on thr=1 ;; defer) gro=on thr=1 defer=${DEFER_N:-100} flush=${DEFER_NS:-50000} ;; esac
  # defer: napi_defer_hard_irqs/gro_flush_timeout on the namespace side: after a poll that found
  # packets, veth keeps its notification masked (rx_notify_masked) for DEFER_N more polls,
  # DEFER_NS apart, run by a timer on the receiver's CPU (or by the receiver's own busy poll):
  # meanwhile veth_xmit only puts the packet in the ring and wakes nobody.
  ip netns exec "$ns" sh -c "echo $defer > /sys/class/net/$ns_if/napi_defer_hard_irqs; echo $flush > /sys/class/net/$ns_if/gro_flush_timeout"
  # threaded off first (writing it fails while the device has no NAPI, i.e. with GRO off), GRO, then on.
  ip netns exec "$ns" sh -c "echo 0 > /sys/class/net/$ns_if/threaded" 2>/dev/null || true
  # veth_xmit takes the NAPI path only when the peer has GRO on (its NAPI exists) and the skb is
  # eligible (veth_skb_is_eligible_for_gro): a TCP skb (destructor tcp_wfree) only from a sending
  # device without TSO. Otherwise netif_rx: the backlog of the sender's CPU, as on loopback.
  local tso=on; [[ $gro == on ]] && tso=off
  ethtool -K "$host_if" tso "$tso" >/dev/null
  ip netns exec "$ns" ethtool -K "$ns_if" gro "$gro" >/dev/null
  [[ $thr != 0 ]] && ip netns exec "$ns" sh -c "echo $thr > /sys/class/net/$ns_if/threaded"
  if [[ $thr != 0 ]]; then
    # NAPI_FIFO=N: the kthread SCHED_FIFO N, so the deferral's timer poll preempts a spinning
    # receiver at once (as a NIC's softirq would) instead of waiting for its CFS slice.
    for p in $(pgrep "^napi/$ns_if" || true); do taskset -pc 1 "$p" >/dev/null; if [[ -n "${NAPI_FIFO:-}" ]]; then chrt -f -p "$NAPI_FIFO" "$p"; fi; done
  fi
}

# Tracing: an ftrace instance of our own (others may trace too), the sender's events only.
ti=/sys/kernel/tracing/instances/sendsys-$$
trace_on() { send_trace_start "$ti" "$1" 8192; }
trace_off() {
  echo 0 > "$ti/tracing_on"
  cat "$ti/trace" > "$bin/trace-$1.txt"
  echo 0 > "$ti/events/enable"; echo > "$ti/trace"
  python3 "$here/send-trace-split.py" "$1" < "$bin/trace-$1.txt" | tee -a "$bin/splits.txt" >&2
}

all="lo-block lo-spin lo-busypoll lo-block-cpu0 lo-spin-dontwait lo-spin-more veth-block veth-spin veth-gro-spin veth-threaded-block veth-threaded-spin veth-threaded-busypoll veth-defer-block veth-defer-spin veth-defer-spinpoll lo-epollbusy veth-threaded-epollbusy veth-defer-epollbusy"
variants=${VARIANTS:-$all}
port=$(( 20000 + $$ % 20000 ))
out="$bin/results.jsonl"
echo "send(2) variants: $rounds rounds x $n sends every $iv us, $mb MB walked between sends; sender CPU 0; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 "$rounds"); do
  for v in $variants; do
    port=$((port + 1))
    mode=${v#*-}; mode=${mode%%-*}; flags=0 rxcpu=1 where=lo addr=127.0.0.1
    case $v in
      lo-block-cpu0) mode=block rxcpu=0 ;;
      lo-spin-dontwait) mode=spin flags=dontwait ;;
      lo-spin-more) mode=spin flags=more ;;
      veth-gro-*) where=veth; veth_mode gro; mode=${v#veth-gro-} ;;
      veth-threaded-*) where=veth; veth_mode threaded; mode=${v#veth-threaded-} ;;
      veth-defer-*) where=veth; veth_mode defer; mode=${v#veth-defer-} ;;
      veth-*) where=veth; veth_mode off; mode=${v#veth-} ;;
    esac
    [[ $where == veth ]] && addr=$peer
    if [[ $where == veth ]]; then
      ip netns exec "$ns" "$bin/sv" recv "$mode" "$rxcpu" "$addr" "$port" > "$bin/rx.out" 2>&1 &
    else
      "$bin/sv" recv "$mode" "$rxcpu" "$addr" "$port" > "$bin/rx.out" 2>&1 &
    fi
    rx_pid=$!
    for _ in $(seq 200); do grep -q listening "$bin/rx.out" && break; sleep 0.01; done
    if [[ -n "${TRACE:-}" && $r == 1 ]]; then
      "$bin/sv" send 0 "$addr" "$port" "$iv" "$mb" "$n" "$flags" > "$bin/tx.out" &
      tx_pid=$!
      trace_on "$tx_pid"
      wait "$tx_pid"
      trace_off "$v"
      tx=$(tail -1 "$bin/tx.out")
    else
      tx=$("$bin/sv" send 0 "$addr" "$port" "$iv" "$mb" "$n" "$flags" | tail -1)
    fi
    wait "$rx_pid" || true; rx_pid=
    rx=$(tail -1 "$bin/rx.out")
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "{\"variant\":\"$v\",\"round\":$r,\"load1\":$load,\"tx\":$tx,\"rx\":$rx}" | tee -a "$out" >&2
  done
done
[[ -f "$bin/splits.txt" ]] && { echo "--- inside send(2), traced (mean us per call; ftrace prints us, and tracing adds its own cost):" >&2; cat "$bin/splits.txt" >&2; }
python3 - "$out" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
res = {}
for v in dict.fromkeys(r['variant'] for r in rows):
    rs = [r for r in rows if r['variant'] == v]
    med = lambda f: statistics.median(f(r) for r in rs)
    res[v] = {'send_p50_us': round(med(lambda r: r['tx']['send_p50_ns']) / 1e3, 2), 'send_p99_us': round(med(lambda r: r['tx']['send_p99_ns']) / 1e3, 2),
              'deliver_p50_us': round(med(lambda r: r['rx'].get('deliver_p50_ns', 0)) / 1e3, 2), 'deliver_p99_us': round(med(lambda r: r['rx'].get('deliver_p99_ns', 0)) / 1e3, 2),
              'rounds': len(rs), 'load1': [r['load1'] for r in rs]}
w = max(len(v) for v in res)
print(f"{'variant'.ljust(w)}  send p50    p99   deliver p50    p99   load", file=sys.stderr)
for v, x in res.items():
    print(f"{v.ljust(w)}  {x['send_p50_us']:7.2f} {x['send_p99_us']:7.2f}   {x['deliver_p50_us']:9.2f} {x['deliver_p99_us']:7.2f}   {x['load1']}", file=sys.stderr)
print(json.dumps({'what': 'send(2) of a 52-byte message and its one-way delivery, us, median over rounds', 'variants': res}))
EOF
