# Sourced by send-variants.sh and trace-run-sends.sh: one ftrace instance of our own (others may
# trace too), the events send-trace-split.py splits a send(2) by, for one thread or process.
# send_trace_start INSTANCE_DIR PID BUFFER_KB
send_trace_start() {
  mkdir -p "$1"
  echo "$3" > "$1/buffer_size_kb"
  echo "$2" > "$1/set_event_pid"
  for e in syscalls/sys_enter_sendto syscalls/sys_exit_sendto net/net_dev_start_xmit net/net_dev_xmit net/netif_rx \
           irq/softirq_raise irq/softirq_entry irq/softirq_exit net/netif_receive_skb napi/napi_poll sched/sched_waking ipi/ipi_send_cpu; do
    echo 1 > "$1/events/$e/enable"
  done
  echo 1 > "$1/tracing_on"
}
