#!/usr/bin/env bash
# Builds test/interop/quickfix-acceptor (a QuickFIX-based FIX 4.2/4.4 acceptor used by the interop test)
# into build/quickfix-acceptor/quickfix-acceptor. Idempotent: rebuilds only when the source is newer.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/test/interop/quickfix-acceptor/quickfix_acceptor.cpp"
out_dir="$root/build/quickfix-acceptor"
out="$out_dir/quickfix-acceptor"
cxx="${CXX:-g++}"
# Where the QuickFIX headers live (override to point at a source build).
inc="${QUICKFIX_INCLUDE_DIR:-/usr/include/quickfix}"

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "build_quickfix_acceptor: C++ compiler '$cxx' not found (fix: apt-get install g++)" >&2
  exit 3
fi
if [ ! -f "$inc/Application.h" ]; then
  echo "build_quickfix_acceptor: QuickFIX headers not found in $inc (fix: apt-get install libquickfix-dev)" >&2
  exit 3
fi
if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "${BASH_SOURCE[0]}" ]; then
  echo "$out is up to date"
  exit 0
fi
mkdir -p "$out_dir"
cflags="-I$(dirname "$inc") $(pkg-config --cflags quickfix 2>/dev/null || true)"
libs="$(pkg-config --libs quickfix 2>/dev/null || echo -lquickfix)"
# QuickFIX 1.15 headers use dynamic exception specifications and std::auto_ptr: C++14 is the
# newest standard that still accepts both (with deprecation warnings, silenced here).
# shellcheck disable=SC2086
if ! "$cxx" -std=c++14 -O1 -Wno-deprecated -Wno-deprecated-declarations $cflags -o "$out.tmp" "$src" $libs -lpthread; then
  echo "build_quickfix_acceptor: compile/link failed (fix: apt-get install libquickfix-dev)" >&2
  rm -f "$out.tmp"
  exit 1
fi
mv "$out.tmp" "$out"
echo "built $out"
