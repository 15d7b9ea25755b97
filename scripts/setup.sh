#!/usr/bin/env bash
# One-time machine set-up for tickpath on Debian/Ubuntu, as root. Idempotent: run it again any time.
#   1. installs the system packages the backends and tests use (only the missing ones);
#   2. reserves and mounts 2 MB hugepages (scripts/setup_hugepages.sh, default 512 pages = 1 GiB);
#   3. mounts bpffs for AF_XDP if it is missing;
#   4. npm ci: installs the Node dependencies, builds the native addon and the TypeScript.
# Environment: TICKPATH_HUGEPAGES (pages, default 512), TICKPATH_SKIP_NPM=1 to stop after step 3.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # packet I/O backends
  dpdk dpdk-dev libdpdk-dev libxdp-dev libbpf-dev libpcap-dev libnuma-dev pkg-config
  # addon build
  python3 make g++
  # tests and tools: veth/netns, traffic replay, perf:rx's top-speed sender (trafgen), NIC settings,
  # the QuickFIX venue for FIX interop
  iproute2 tcpreplay netsniff-ng ethtool libquickfix-dev
  # the dashboard's browser test (headless), the monitor's terminal test
  chromium util-linux
  # Wireshark's dissectors as the independent reader of our OUCH/SoupBinTCP bytes and captures
  tshark
)

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: must run as root (it installs packages and reserves hugepages)." >&2
  echo "  fix: sudo $0" >&2
  echo "  or by hand: install ${PACKAGES[*]}, run scripts/setup_hugepages.sh as root, then npm ci" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup.sh: this is not a Debian/Ubuntu (apt) system." >&2
  echo "  fix: install by hand the equivalents of: ${PACKAGES[*]} (DPDK >= 22.11, libxdp >= 1.2)," >&2
  echo "  then run scripts/setup_hugepages.sh as root and npm ci" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: system packages present"
fi

scripts/setup_hugepages.sh "${TICKPATH_HUGEPAGES:-512}"

if ! grep -qs ' /sys/fs/bpf bpf ' /proc/mounts; then
  echo "setup: mounting bpffs at /sys/fs/bpf"
  mkdir -p /sys/fs/bpf
  mount -t bpf bpf /sys/fs/bpf || echo "setup: warning: could not mount bpffs (AF_XDP still works; libxdp cannot pin its dispatcher)" >&2
else
  echo "setup: bpffs mounted"
fi

if [ "${TICKPATH_SKIP_NPM:-0}" != 1 ]; then
  echo "setup: npm ci (builds the native addon and the TypeScript)"
  npm ci --no-audit --no-fund
fi
echo "setup: done. Next: npm start   (or: node bin/tickpath.js doctor)"
