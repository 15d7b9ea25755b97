/**
 * `tickpath capture --filter EXPR`: a full BPF expression (pcap-filter(7) syntax, as tcpdump takes
 * it), compiled by libpcap's own compiler inside the process and run by libpcap's interpreter over
 * each received frame (dpdk-binding/src/bpf_glue.cc). Applied in the capture loop, after the frame
 * is in memory, it means the same thing on every backend: the frames of dpdk, af_xdp and af_packet
 * as received, and the udp backend's payloads behind the synthetic headers they are written with.
 *
 * Why not a kernel filter (SO_ATTACH_FILTER): dpdk and af_xdp have no socket to attach it to, and
 * the capture tool is not a hot path (one native call per frame is well under a microsecond).
 * Single owner: the capture loop's thread; close() frees the compiled program.
 */
import { binding } from '../binding/native';
import { TickpathError } from '../errors';

/** Ethernet: the link type of every frame tickpath captures and writes. */
export const kLinkTypeEthernet = 1;

export class CaptureFilter {
  private id: number;

  private constructor(readonly expression: string, id: number) {
    this.id = id;
  }

  /** Compiles `expression` for Ethernet frames; ERR_BAD_FILTER names the expression and libpcap's reason. */
  static compile(expression: string, snapLength = 65535): CaptureFilter {
    const b = binding();
    if (expression.trim() === '') {
      throw new TickpathError('ERR_BAD_FILTER', 'capture filter is empty', "give a pcap-filter(7) expression, e.g. 'udp and dst port 26477', or leave --filter out");
    }
    try {
      return new CaptureFilter(expression, b.bpfCompile(expression, kLinkTypeEthernet, snapLength));
    } catch (err) {
      const message = (err as Error).message;
      if (/built without/.test(message)) throw new TickpathError('ERR_NO_LIBPCAP', `capture filter ${JSON.stringify(expression)}: ${message}`);
      throw new TickpathError('ERR_BAD_FILTER', `capture filter ${JSON.stringify(expression)} does not compile: ${message}`,
        "write it in pcap-filter(7) syntax as tcpdump takes it, e.g. 'udp and dst host 233.54.12.111 and dst port 26477'");
    }
  }

  /** True when the frame `bytes[offset, offset + length)` (of `wireLength` on the wire) passes. */
  matches(bytes: Uint8Array, offset: number, length: number, wireLength = length): boolean {
    return binding().bpfMatch(this.id, bytes, offset, length, wireLength) !== 0;
  }

  close(): void {
    if (this.id >= 0) binding().bpfFree(this.id);
    this.id = -1;
  }
}
