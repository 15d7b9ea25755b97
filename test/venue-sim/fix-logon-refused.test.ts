/**
 * A FIX Logon the venue simulator cannot accept is refused with its cause in the venue's log (and
 * a counter), and the venue keeps serving other clients: a store that will not open, a wrong
 * TargetCompID. Real sockets, a real FixConnector as the client.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { VenueSimulator } from '../../lib/venue-sim/venue-simulator';
import { FixConnector } from '../../lib/router/connectors/fix-connector';
import type { VenueListener } from '../../lib/router/venue';

const listener: VenueListener = {
  onAck: () => undefined, onReject: () => undefined, onFill: () => undefined, onCancelled: () => undefined,
  onReplaced: () => undefined, onSessionState: () => undefined,
};

describe('venue simulator: a FIX Logon it cannot take is refused with its cause logged', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-logon-refused-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const client = (port: number, senderCompId: string, targetCompId = 'VENUE') => {
    const c = new FixConnector({ name: 'V', host: '127.0.0.1', port, version: 'FIX.4.4', senderCompId, targetCompId,
      heartbeatIntervalSec: 30, storeDir: fs.mkdtempSync(path.join(dir, 'client-')), reconnectAttempts: 0, resetOnLogon: true, connectTimeoutMs: 5000 });
    c.setListener(listener);
    return c;
  };

  for (const [storeKind, transport] of [['mapped', 'native'], ['files', 'libuv']] as const) {
    it(`${storeKind} store that cannot open (${transport} transport): logged with the store's error, connection closed, the venue still up`, async () => {
      // The store directory is a regular file: every session store under it fails to open.
      const bad = path.join(dir, 'not-a-directory');
      fs.writeFileSync(bad, 'x');
      const lines: string[] = [];
      const sim = new VenueSimulator({ ouchPort: null, fixPort: 0, fixStoreDir: bad, fixStoreKind: storeKind, transport, log: (l) => lines.push(l) });
      const { fixPort } = await sim.start();
      try {
        const c = client(fixPort, 'BADSTORE');
        const err = await c.connect().then(() => null, (e: Error) => e);
        await c.close();
        expect(err, 'the Logon is refused').to.not.equal(null);
        expect((err as { code?: string }).code).to.equal('ERR_FIX_CONNECT');
        const refused = lines.filter((l) => l.includes('FIX logon refused'));
        expect(refused, lines.join('\n')).to.have.length(1);
        expect(refused[0]).to.contain('Logon from BADSTORE FIX.4.4: its FIX store would not open');
        expect(refused[0]).to.contain('not-a-directory');
        expect(sim.stats()).to.include({ fixLogonsRefused: 1, fixLogons: 0 });
        // Still serving: a second attempt is refused the same way, not a crashed process.
        const c2 = client(fixPort, 'BADSTORE2');
        expect(await c2.connect().then(() => 'ok', () => 'refused')).to.equal('refused');
        await c2.close();
        expect(sim.stats()).to.include({ fixLogonsRefused: 2 });
      } finally {
        await sim.stop();
      }
    });
  }

  it('wrong TargetCompID: logged naming both CompIDs; a good client then logs on', async () => {
    const lines: string[] = [];
    const sim = new VenueSimulator({ ouchPort: null, fixPort: 0, fixStoreDir: path.join(dir, 'venue'), log: (l) => lines.push(l) });
    fs.mkdirSync(path.join(dir, 'venue'));
    const { fixPort } = await sim.start();
    try {
      const c = client(fixPort, 'WRONGTGT', 'NOTVENUE');
      expect(await c.connect().then(() => 'ok', () => 'refused')).to.equal('refused');
      await c.close();
      expect(lines.join('\n')).to.contain('FIX logon refused: Logon from WRONGTGT for TargetCompID NOTVENUE, expected VENUE');
      const ok = client(fixPort, 'GOOD');
      await ok.connect();
      await ok.close();
      expect(sim.stats()).to.include({ fixLogonsRefused: 1, fixLogons: 1 });
    } finally {
      await sim.stop();
    }
  });
});
