#!/usr/bin/env bash
# Low-latency NIC and kernel tuning for one interface, made safe and reversible.
#
#   sudo scripts/tune_network.sh IFACE [--dry-run] [--revert]
#
# Applies: net.core.rmem_max / wmem_max / rmem_default, netdev_max_backlog, busy_poll / busy_read;
# ethtool -G rings to their maximum, -C rx-usecs 0 with adaptive coalescing off, -K gro/lro off;
# RPS off on every RX queue; prints (never changes) the IRQ affinity of the NIC's interrupts and
# its hardware timestamping capability. The previous values are saved once, in
# ${TICKPATH_TUNE_STATE_DIR:-/var/lib/tickpath}/tune-IFACE.state, and --revert restores them.
# Idempotent: settings already at target are left alone; a second run keeps the first saved values.
# Every change is read back (ok / FAILED); what the NIC does not support is skipped with a message.
# --dry-run prints every change without making it. Exit: 0 ok, 1 a setting failed or the
# interface is missing or unknown, 2 bad usage.
set -uo pipefail

DRY=0 REVERT=0 IFACE=""
STATE_DIR=${TICKPATH_TUNE_STATE_DIR:-/var/lib/tickpath}

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --revert) REVERT=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "tune_network: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) if [ -n "$IFACE" ]; then echo "tune_network: one interface only (got '$IFACE' and '$1')" >&2; exit 2; fi; IFACE="$1" ;;
  esac
  shift
done

if [ -z "$IFACE" ]; then
  echo "tune_network: no interface given; usage: tune_network.sh IFACE [--dry-run] [--revert] (list them with: ip -br link)" >&2
  exit 1
fi
if [ ! -e "/sys/class/net/$IFACE" ]; then
  echo "tune_network: interface '$IFACE' does not exist (list them with: ip -br link)" >&2
  exit 1
fi
if [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then
  echo "tune_network: changing kernel and NIC settings needs root (run with sudo, or use --dry-run)" >&2
  exit 1
fi

STATE="$STATE_DIR/tune-$IFACE.state"
FAILED=0
HAVE_ETHTOOL=1
command -v ethtool >/dev/null 2>&1 || HAVE_ETHTOOL=0

say() { echo "$*"; }
check() { # name want got
  if [ "$DRY" = 1 ]; then return 0; fi
  if [ "$2" = "$3" ]; then say "  ok      $1 = $3"; else say "  FAILED  $1 is $3, wanted $2"; FAILED=1; fi
}

# State: one "kind key value" line per saved setting. A key already saved keeps its first value,
# so re-running after a partial apply never records a tuned value as the original.
saved() { [ -f "$STATE" ] && grep -q "^$1 $2 " "$STATE"; }
save() { # kind key value
  [ "$DRY" = 1 ] && return 0
  saved "$1" "$2" && return 0
  mkdir -p "$STATE_DIR"
  echo "$1 $2 $3" >> "$STATE"
}

# ---- sysctls -------------------------------------------------------------------------------
sysctl_get() { cat "/proc/sys/${1//.//}" 2>/dev/null; }
sysctl_set() { # key value
  local key=$1 want=$2 cur
  cur=$(sysctl_get "$key")
  if [ -z "$cur" ]; then say "skip    $key: not available on this kernel"; return 0; fi
  if [ "$cur" = "$want" ]; then say "same    $key = $want"; return 0; fi
  say "change  $key: $cur -> $want"
  save sysctl "$key" "$cur"
  [ "$DRY" = 1 ] && return 0
  echo "$want" > "/proc/sys/${key//.//}" 2>/dev/null
  check "$key" "$want" "$(sysctl_get "$key")"
}

# ---- ethtool -------------------------------------------------------------------------------
# Ring sizes: "ethtool -g" prints the maximums first, then the current values.
ring_value() { # max|cur RX|TX
  ethtool -g "$IFACE" 2>/dev/null | awk -v which="$1" -v key="$2:" '
    /Pre-set maximums/ {sect="max"} /Current hardware settings/ {sect="cur"}
    $1 == key && sect == which {print $2; exit}'
}
tune_rings() {
  if ! ethtool -g "$IFACE" >/dev/null 2>&1; then say "skip    ring sizes (ethtool -G): not supported by $IFACE"; return 0; fi
  local q max cur
  for q in RX TX; do
    max=$(ring_value max "$q"); cur=$(ring_value cur "$q")
    if [ -z "$max" ] || [ -z "$cur" ] || [ "$max" = "n/a" ]; then say "skip    $q ring: not reported by $IFACE"; continue; fi
    local opt; opt=$(echo "$q" | tr 'A-Z' 'a-z')
    if [ "$cur" = "$max" ]; then say "same    $q ring = $max (maximum)"; continue; fi
    say "change  $q ring: $cur -> $max (maximum)"
    save ring "$opt" "$cur"
    [ "$DRY" = 1 ] && continue
    if ! ethtool -G "$IFACE" "$opt" "$max" 2>/dev/null; then say "  skip    $q ring: $IFACE refused ethtool -G $opt $max"; continue; fi
    check "$q ring" "$max" "$(ring_value cur "$q")"
  done
}

coal_value() { ethtool -c "$IFACE" 2>/dev/null | awk -v key="$1:" '$1 == key {print $2; exit} $1" "$2 == key {print $3; exit}'; }
tune_coalescing() {
  if ! ethtool -c "$IFACE" >/dev/null 2>&1; then say "skip    interrupt coalescing (ethtool -C): not supported by $IFACE"; return 0; fi
  local cur
  cur=$(ethtool -c "$IFACE" | awk '/^Adaptive RX:/ {print $3; exit}')
  if [ -n "$cur" ] && [ "$cur" != "n/a" ]; then
    if [ "$cur" = off ]; then say "same    adaptive-rx = off"
    else
      say "change  adaptive-rx: $cur -> off"; save coalesce adaptive-rx "$cur"
      if [ "$DRY" = 0 ]; then
        ethtool -C "$IFACE" adaptive-rx off 2>/dev/null || say "  skip    adaptive-rx: $IFACE refused it"
        check adaptive-rx off "$(ethtool -c "$IFACE" | awk '/^Adaptive RX:/ {print $3; exit}')"
      fi
    fi
  else say "skip    adaptive-rx: not reported by $IFACE"; fi
  cur=$(coal_value rx-usecs)
  if [ -n "$cur" ] && [ "$cur" != "n/a" ]; then
    if [ "$cur" = 0 ]; then say "same    rx-usecs = 0"
    else
      say "change  rx-usecs: $cur -> 0"; save coalesce rx-usecs "$cur"
      if [ "$DRY" = 0 ]; then
        ethtool -C "$IFACE" rx-usecs 0 2>/dev/null || say "  skip    rx-usecs: $IFACE refused it"
        check rx-usecs 0 "$(coal_value rx-usecs)"
      fi
    fi
  else say "skip    rx-usecs: not reported by $IFACE"; fi
}

feature_value() { ethtool -k "$IFACE" 2>/dev/null | awk -v key="$1:" '$1 == key {print $2 ($3 == "[fixed]" ? " fixed" : ""); exit}'; }
tune_feature() { # long-name short-name
  local v; v=$(feature_value "$1")
  if [ -z "$v" ]; then say "skip    $2 ($1): not reported by $IFACE"; return 0; fi
  case "$v" in
    off*) say "same    $2 = off" ;;
    *fixed) say "skip    $2 = ${v% fixed}: fixed by the driver of $IFACE" ;;
    *)
      say "change  $2: on -> off"; save feature "$2" on
      [ "$DRY" = 1 ] && return 0
      ethtool -K "$IFACE" "$2" off 2>/dev/null || { say "  skip    $2: $IFACE refused ethtool -K $2 off"; return 0; }
      local got; got=$(feature_value "$1"); check "$2" off "${got% fixed}" ;;
  esac
}

# ---- RPS and IRQs --------------------------------------------------------------------------
tune_rps() {
  local f q cur
  for f in /sys/class/net/"$IFACE"/queues/rx-*/rps_cpus; do
    [ -e "$f" ] || { say "skip    RPS: $IFACE has no rx queues in sysfs"; return 0; }
    q=$(basename "$(dirname "$f")")
    cur=$(cat "$f")
    if [ -z "$(echo "$cur" | tr -d '0,')" ]; then say "same    RPS $q = off"; continue; fi
    say "change  RPS $q: $cur -> 0"; save rps "$q" "$cur"
    [ "$DRY" = 1 ] && continue
    echo 0 > "$f" 2>/dev/null
    cur=$(cat "$f"); check "RPS $q" off "$([ -z "$(echo "$cur" | tr -d '0,')" ] && echo off || echo "$cur")"
  done
}

print_irqs() {
  local found=0 irq line
  while read -r line; do
    irq=${line%%:*}; irq=${irq// /}
    found=1
    say "info    IRQ $irq ($(echo "$line" | awk '{print $NF}')): affinity $(cat /proc/irq/"$irq"/smp_affinity_list 2>/dev/null), hint $(cat /proc/irq/"$irq"/affinity_hint 2>/dev/null) (not changed: pin it away from the feed handler's CPUs)"
  done < <(grep -E "[[:space:]]$IFACE(-|$|[[:space:]])" /proc/interrupts 2>/dev/null)
  [ "$found" = 1 ] || say "info    no IRQs named after $IFACE (a virtual device, or the driver names them differently)"
}

print_timestamping() {
  [ "$HAVE_ETHTOOL" = 1 ] || return 0
  if ethtool -T "$IFACE" 2>/dev/null | grep -q hardware-receive; then say "info    hardware RX timestamping available (use timestamps=hw in the port options)"
  else say "skip    hardware timestamping: $IFACE offers software timestamps only"; fi
}

# ---- revert --------------------------------------------------------------------------------
revert() {
  if [ ! -f "$STATE" ]; then say "nothing to revert: no saved state for $IFACE ($STATE)"; return 0; fi
  local kind key val
  while read -r kind key val; do
    case "$kind" in
      sysctl)
        say "restore $key -> $val"
        [ "$DRY" = 1 ] && continue
        echo "$val" > "/proc/sys/${key//.//}" 2>/dev/null; check "$key" "$val" "$(sysctl_get "$key")" ;;
      ring)
        say "restore ${key^^} ring -> $val"
        [ "$DRY" = 1 ] && continue
        ethtool -G "$IFACE" "$key" "$val" 2>/dev/null; check "${key^^} ring" "$val" "$(ring_value cur "${key^^}")" ;;
      coalesce)
        say "restore $key -> $val"
        [ "$DRY" = 1 ] && continue
        ethtool -C "$IFACE" "$key" "$val" 2>/dev/null
        if [ "$key" = adaptive-rx ]; then check "$key" "$val" "$(ethtool -c "$IFACE" | awk '/^Adaptive RX:/ {print $3; exit}')"
        else check "$key" "$val" "$(coal_value "$key")"; fi ;;
      feature)
        say "restore $key -> $val"
        [ "$DRY" = 1 ] && continue
        ethtool -K "$IFACE" "$key" "$val" 2>/dev/null
        local long=generic-receive-offload; [ "$key" = lro ] && long=large-receive-offload
        local got; got=$(feature_value "$long"); check "$key" "$val" "${got% fixed}" ;;
      rps)
        say "restore RPS $key -> $val"
        [ "$DRY" = 1 ] && continue
        echo "$val" > "/sys/class/net/$IFACE/queues/$key/rps_cpus" 2>/dev/null
        check "RPS $key" "$val" "$(cat "/sys/class/net/$IFACE/queues/$key/rps_cpus")" ;;
    esac
  done < "$STATE"
  if [ "$DRY" = 0 ] && [ "$FAILED" = 0 ]; then rm -f "$STATE"; say "reverted; removed $STATE"; fi
}

[ "$DRY" = 1 ] && say "dry run: nothing is changed"
if [ "$REVERT" = 1 ]; then
  revert
else
  say "tuning $IFACE (previous values saved in $STATE)"
  sysctl_set net.core.rmem_max 33554432
  sysctl_set net.core.wmem_max 33554432
  sysctl_set net.core.rmem_default 8388608
  sysctl_set net.core.netdev_max_backlog 250000
  sysctl_set net.core.busy_poll 50
  sysctl_set net.core.busy_read 50
  if [ "$HAVE_ETHTOOL" = 1 ]; then
    tune_rings
    tune_coalescing
    tune_feature generic-receive-offload gro
    tune_feature large-receive-offload lro
  else
    say "skip    rings, coalescing, offloads, timestamping: ethtool is not installed (apt-get install ethtool)"
  fi
  tune_rps
  print_irqs
  print_timestamping
fi
if [ "$FAILED" = 1 ]; then echo "tune_network: some settings did not take effect (see FAILED above)" >&2; exit 1; fi
exit 0
