/**
 * CI sets TICKPATH_REQUIRE_BACKENDS=dpdk,af_xdp,af_packet,udp,pcap: a test that cannot exercise a
 * listed backend then FAILS instead of skipping, so a missing install step cannot pass as green.
 */
export function requiredBackends(): Set<string> {
  return new Set((process.env.TICKPATH_REQUIRE_BACKENDS ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}

/** Skips (locally) or fails (when required) with `reason`. */
export function unavailable(ctx: Mocha.Context, backend: string, reason: string): never {
  if (requiredBackends().has(backend)) {
    throw new Error(`backend '${backend}' is required by TICKPATH_REQUIRE_BACKENDS but cannot be tested: ${reason}`);
  }
  ctx.skip();
  throw new Error('unreachable');
}
