import type { VenueSimulator } from './venue-simulator';
import { TickpathError } from '../../errors';

export interface FixVenueOptions { compId: string; storeDir?: string; heartbeatIntervalMs?: number; log: (l: string) => void }

/** Placeholder until the FIX session layer lands: refuses to start. */
export class FixVenueFrontEnd {
  constructor(_sim: VenueSimulator, _o: FixVenueOptions) {}
  listen(_port: number, _host: string): Promise<number> {
    return Promise.reject(new TickpathError('ERR_NOT_IMPLEMENTED', 'FIX front end not yet implemented'));
  }
  close(): Promise<void> { return Promise.resolve(); }
  stats(): Record<string, number> { return {}; }
}
