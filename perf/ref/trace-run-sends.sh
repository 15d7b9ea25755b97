#!/usr/bin/env bash
# trace-run-sends.sh [RUN OPTIONS...]: where the stage worker's send(2)s go inside a real
# `tickpath run` (bundled default): ftrace events of that thread only, in an instance of our own,
# split per call by send-trace-split.py and by device (the venue's interface beside lo, where the
# keep-warm socket sends). Root only. e.g.
#   perf/ref/trace-run-sends.sh --venue-process spin@1 --duration 6
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=send-trace-lib.sh
source "$here/send-trace-lib.sh"
root=$(cd "$here/../.." && pwd)
ti=/sys/kernel/tracing/instances/sendsys-run-$$
log=$(mktemp /tmp/sendsys-run-XXXXXX.log)
cleanup() { [[ -d "$ti" ]] && { echo 0 > "$ti/events/enable"; rmdir "$ti"; } 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
node "$root/bin/tickpath.js" run --metrics-port off "$@" > "$log" 2>&1 &
run=$!
tid=
for _ in $(seq 600); do
  tid=$(grep -o 'worker_started worker 0 pinned to CPU [0-9]* (tid [0-9]*)' "$log" | grep -o 'tid [0-9]*' | cut -d' ' -f2 || true)
  [[ -n "$tid" ]] && break
  sleep 0.1
done
[[ -n "$tid" ]] || { echo "no stage worker tid in the run's log" >&2; cat "$log" >&2; exit 1; }
send_trace_start "$ti" "$tid" 65536
wait "$run" || true
echo 0 > "$ti/tracing_on"
grep -E 'order_syscall|order_ack|venue network|venue simulators:' "$log" >&2 || true
python3 "$here/send-trace-split.py" "stage worker $tid" < "$ti/trace"
