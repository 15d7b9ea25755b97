import { expect } from 'chai';
import * as dgram from 'dgram';
import { main } from '../../../apps/rerequest-server';
import { MoldUdp64Packet } from '../../../lib/feed/wire/moldudp64-packet';

describe('tickpath rerequest-server', function () {
  this.timeout(10000);
  let sock: dgram.Socket | undefined;
  after(() => { sock?.close(); });

  it('rejects bad usage with exit code 2', async () => {
    const err = console.error;
    console.error = () => { /* quiet */ };
    try {
      expect(await main(['--port', '70000', '--generate', '5'])).to.equal(2);
      expect(await main([])).to.equal(2);
    } finally { console.error = err; }
  });

  it('answers a request for a generated session over UDP', async () => {
    const lines: string[] = [];
    const log = console.log; const err = console.error;
    console.log = (s: string) => { lines.push(s); };
    console.error = () => { /* summary */ };
    let rc: Promise<number>;
    try {
      rc = main(['--generate', '300', '--session', 'APPT', '--exit-after', '1500', '--max-packet-size', '300']);
      while (!lines.some((l) => l.startsWith('listening'))) await new Promise((r) => setTimeout(r, 5));
    } finally { console.log = log; }
    const port = Number(/:(\d+)$/.exec(lines.find((l) => l.startsWith('listening'))!)![1]);
    sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock!.bind(0, '127.0.0.1', () => r()));
    const req = Buffer.alloc(20, 0x20);
    req.write('APPT', 0, 'latin1');
    req.writeUInt32BE(0, 10); req.writeUInt32BE(42, 14); req.writeUInt16BE(100, 18);
    const answer = new Promise<Buffer>((r) => sock!.once('message', (m) => r(m)));
    sock.send(req, port, '127.0.0.1');
    const m = await answer;
    const p = new MoldUdp64Packet();
    const count = p.wrap(m, 0, m.length);
    expect(p.sequenceNumber).to.equal(42);
    expect(count).to.be.greaterThan(0).and.lessThan(100); // one packet of at most 300 bytes
    expect(m.length).to.be.at.most(300);
    expect(await rc).to.equal(0);
    console.error = err;
  });
});
