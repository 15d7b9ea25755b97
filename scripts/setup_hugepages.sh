#!/usr/bin/env bash
# Reserve 2 MB hugepages and mount hugetlbfs for DPDK and AF_XDP UMEM.
#
#   sudo scripts/setup_hugepages.sh [--dry-run] [--persist] [--node N] [SIZE]
#
# SIZE is a page count (512) or a size with a unit (1G, 1024M); default 512 pages (1 GiB).
# Idempotent: it raises the reservation only when fewer pages are reserved, mounts only when
# nothing is mounted, and with --persist writes its own /etc/sysctl.d file and one fstab line
# (replacing, never appending duplicates). --dry-run prints every change without making it.
set -euo pipefail

DRY=0 PERSIST=0 NODE="" SIZE="512"
MOUNT=/dev/hugepages
# Overridable for tests only.
SYSCTL_FILE=${TICKPATH_SYSCTL_FILE:-/etc/sysctl.d/60-tickpath-hugepages.conf}
FSTAB=${TICKPATH_FSTAB:-/etc/fstab}

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --persist) PERSIST=1 ;;
    --node) NODE="${2:?--node needs a NUMA node number}"; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "setup_hugepages: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) SIZE="$1" ;;
  esac
  shift
done

case "$SIZE" in
  *[Gg]) PAGES=$(( ${SIZE%[Gg]} * 512 )) ;;
  *[Mm]) PAGES=$(( ${SIZE%[Mm]} / 2 )) ;;
  ''|*[!0-9]*) echo "setup_hugepages: size '$SIZE' is not a page count or a size like 1G/1024M" >&2; exit 2 ;;
  *) PAGES=$SIZE ;;
esac

run() {
  echo "+ $*"
  [ "$DRY" = 1 ] || "$@"
}

if [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then
  echo "setup_hugepages: must run as root to reserve hugepages (fix: sudo $0 $SIZE, or --dry-run to see the changes)" >&2
  exit 1
fi

if [ -n "$NODE" ]; then
  NR=/sys/devices/system/node/node$NODE/hugepages/hugepages-2048kB/nr_hugepages
  [ -e "$NR" ] || { echo "setup_hugepages: NUMA node $NODE has no 2 MB hugepage pool ($NR missing)" >&2; exit 1; }
else
  NR=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
  [ -e "$NR" ] || { echo "setup_hugepages: this kernel has no 2 MB hugepages ($NR missing; fix: a kernel with CONFIG_HUGETLBFS)" >&2; exit 1; }
fi

have=$(cat "$NR")
if [ "$have" -ge "$PAGES" ]; then
  echo "hugepages: $have reserved already (wanted $PAGES): unchanged"
else
  echo "hugepages: raising $NR from $have to $PAGES"
  if [ "$DRY" = 1 ]; then echo "+ echo $PAGES > $NR"; else echo "$PAGES" > "$NR" || true; fi
  if [ "$DRY" = 0 ]; then
    got=$(cat "$NR")
    if [ "$got" -lt "$PAGES" ]; then
      echo "setup_hugepages: the kernel reserved only $got of $PAGES pages: memory is too fragmented or too small" >&2
      echo "  fix: free memory and retry, drop caches (echo 3 > /proc/sys/vm/drop_caches), ask for less, or reserve at boot (hugepages=$PAGES on the kernel command line)" >&2
      [ "$got" -gt 0 ] || exit 1
    fi
  fi
fi

if grep -qs " $MOUNT hugetlbfs " /proc/mounts; then
  echo "hugetlbfs: mounted at $MOUNT already"
elif grep -qs " hugetlbfs " /proc/mounts; then
  echo "hugetlbfs: mounted at $(awk '$3=="hugetlbfs"{print $2; exit}' /proc/mounts)"
else
  run mkdir -p "$MOUNT"
  run mount -t hugetlbfs -o pagesize=2M nodev "$MOUNT"
fi

if [ "$PERSIST" = 1 ]; then
  line="vm.nr_hugepages = $PAGES"
  if [ -f "$SYSCTL_FILE" ] && grep -qx "$line" "$SYSCTL_FILE"; then
    echo "persist: $SYSCTL_FILE already says $line"
  else
    echo "persist: writing $SYSCTL_FILE ($line)"
    [ "$DRY" = 1 ] || printf '# written by tickpath scripts/setup_hugepages.sh\n%s\n' "$line" > "$SYSCTL_FILE"
  fi
  fstab="nodev $MOUNT hugetlbfs pagesize=2M 0 0"
  if grep -qs "^[^#]*[[:space:]]$MOUNT[[:space:]]\+hugetlbfs" "$FSTAB"; then
    echo "persist: $FSTAB already mounts $MOUNT"
  else
    echo "persist: adding to $FSTAB: $fstab"
    [ "$DRY" = 1 ] || echo "$fstab" >> "$FSTAB"
  fi
fi

echo "result (/proc/meminfo):"
grep -E '^(HugePages_(Total|Free|Rsvd)|Hugepagesize)' /proc/meminfo | sed 's/^/  /'
