/** A strategy that throws on its Nth event: to see a stage crash reported and the pipeline stopped. */
import type { Strategy } from '../../lib/pipeline/strategy';

export function createStrategy(params: Record<string, unknown>): Strategy {
  let seen = 0;
  const after = Number(params.after ?? 100);
  return {
    onMarketData(): void {
      if (++seen === after) throw new Error(`crash-strategy: deliberate failure at event ${after}`);
    },
  };
}
