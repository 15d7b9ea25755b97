#!/usr/bin/env python3
"""send-trace-split.py VARIANT < ftrace text: where inside each send(2) the time went.

Reads the events send-variants.sh enables for the sender's pid (sys_enter/exit_sendto, net_dev_start_xmit,
net_dev_xmit, netif_rx, softirq_raise/entry/exit, netif_receive_skb, napi_poll, sched_waking,
ipi_send_cpu) and prints one line: the mean per call (ftrace prints microseconds, so means, not
medians, of quantised values) of
  tcp_ip   entry -> the device's start_xmit (tcp_sendmsg, tcp_write_xmit, ip_output)
  xmit     start_xmit -> xmit done (loopback_xmit / veth_xmit: netif_rx or napi_schedule)
  net_rx   NET_RX softirq run inside the call (the receiver's IP/TCP receive, its wakeup)
  rest     everything else inside the call (local_bh_enable, release_sock, the return)
and how many wakeups (by the woken task's name) and IPIs the calls sent, per call.
"""
import re
import sys
from collections import Counter

kLine = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+):\s+(\w+):\s*(.*)$')


def main() -> None:
    variant = sys.argv[1] if len(sys.argv) > 1 else '?'
    calls = []
    cur = None
    for line in sys.stdin:
        # syscall events print as "sys_sendto(fd: 3, ...)" and "sys_sendto -> 0x34"
        line = re.sub(r'sys_sendto\(', 'sys_enter_sendto: (', line)
        line = re.sub(r'sys_sendto -> ', 'sys_exit_sendto: ', line)
        m = kLine.match(line)
        if not m:
            continue
        ts = float(m.group(4)) * 1e6
        ev, rest = m.group(5), m.group(6)
        if ev == 'sys_enter_sendto':
            fd = re.search(r'fd: (\w+)', rest)
            cur = {'fd': int(fd.group(1), 16) if fd else -1, 't0': ts, 'start': None, 'xmit': None, 'rx': 0.0, 'rx_on': None, 'wakes': [], 'ipis': 0, 'raise': 0}
        elif cur is None:
            continue
        elif ev == 'net_dev_start_xmit' and cur['start'] is None:
            cur['start'] = ts
            d = re.search(r'dev=(\S+)', rest)
            cur['dev'] = d.group(1) if d else '?'

        elif ev == 'net_dev_xmit' and cur['xmit'] is None:
            cur['xmit'] = ts
        elif ev == 'softirq_raise' and 'vec=3' in rest:
            cur['raise'] += 1
        elif ev == 'softirq_entry' and 'vec=3' in rest:
            cur['rx_on'] = ts
        elif ev == 'softirq_exit' and 'vec=3' in rest and cur['rx_on'] is not None:
            cur['rx'] += ts - cur['rx_on']
            cur['rx_on'] = None
        elif ev == 'sched_waking':
            w = re.search(r'comm=(\S+)', rest)
            cur['wakes'].append(re.sub(r'\d+$', '', w.group(1)) if w else '?')
        elif ev == 'ipi_send_cpu':
            cur['ipis'] += 1
        elif ev == 'sys_exit_sendto':
            cur['t1'] = ts
            if cur['start'] is not None and cur['xmit'] is not None:
                calls.append(cur)
            cur = None
    calls = calls[100:] if len(calls) > 200 else calls  # the sender's 100 warm-up sends
    if not calls:
        print(f'{variant}: no complete traced send(2)')
        return
    # By socket and device: a process may send on several (the router's keep-warm socket on lo
    # beside its venue sessions, also on lo unless the venue is behind a veth).
    keys = list(dict.fromkeys((c['fd'], c['dev']) for c in calls))
    if len(keys) > 1:
        for fd, d in keys:
            split(f'{variant} fd={fd} dev={d}', [c for c in calls if (c['fd'], c['dev']) == (fd, d)])
        return
    split(variant, calls)


def split(variant, calls) -> None:
    n = len(calls)
    mean = lambda f: sum(f(c) for c in calls) / n
    total = mean(lambda c: c['t1'] - c['t0'])
    tcp_ip = mean(lambda c: c['start'] - c['t0'])
    xmit = mean(lambda c: c['xmit'] - c['start'])
    net_rx = mean(lambda c: c['rx'])
    wakes = Counter(w for c in calls for w in c['wakes'])
    wake_text = ', '.join(f'{k} {v / n:.2f}' for k, v in wakes.most_common(4)) or 'none'
    print(f'{variant:<24} {n} calls: total {total:5.1f} us = tcp_ip {tcp_ip:4.1f} + xmit {xmit:4.1f} + net_rx softirq {net_rx:4.1f} '
          f'+ rest {total - tcp_ip - xmit - net_rx:4.1f}; NET_RX raised {mean(lambda c: c["raise"]):.2f}/call; '
          f'wakeups/call: {wake_text}; IPIs/call {mean(lambda c: c["ipis"]):.2f}')


main()
