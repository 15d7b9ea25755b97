/**
 * Child process for the FIX resend-after-kill test (not a test file itself): a FixSession
 * initiator with its default store, connected to 127.0.0.1:<port>. Once logged on it sends
 * NewOrderSingles as fast as the socket takes them and prints "sent <MsgSeqNum> <ClOrdID>" after
 * each sendApp returned, until it is killed. With `resume` it only logs on and answers the peer
 * (a ResendRequest from the store), printing "logon <next out>" when logged on.
 *
 * argv: <store dir> <port> <send|resume>
 */
import * as fs from 'fs';
import * as net from 'net';
import { FixSession } from '../../lib/protocols/fix/fix-session';
import { FixParser, Tag } from '../../lib/protocols/fix/fix-codec';

const [dir, port, mode] = process.argv.slice(2);
const session = new FixSession({ version: 'FIX.4.4', senderCompId: 'ME', targetCompId: 'VENUE', role: 'initiator', storeDir: dir, heartbeatIntervalSec: 5 });
fs.writeSync(1, `store ${session.store.kind}\n`);
const sock = net.connect(Number(port), '127.0.0.1');
const parser = new FixParser((m) => session.receive(m));
sock.on('data', (c: Buffer) => parser.push(c));
let n = 0;
function sendSome(): void {
  // A batch per turn, then yield so the socket drains (the parent kills us somewhere in here).
  for (let i = 0; i < 20 && session.isLoggedIn; i++) {
    const id = `K${++n}`;
    const seq = session.nextSenderSeq;
    session.beginApp('D').str(Tag.ClOrdID, id).char(Tag.Side, 0x31).str(Tag.Symbol, 'AAPL').int(Tag.OrderQty, 100).char(Tag.OrdType, 0x31);
    session.sendApp();
    fs.writeSync(1, `sent ${seq} ${id}\n`);
  }
  setImmediate(sendSome);
}
session.setApplication({
  onLogon: () => {
    fs.writeSync(1, `logon ${session.nextSenderSeq}\n`);
    if (mode === 'send') sendSome();
  },
  onLogout: () => undefined,
  onAppMessage: () => undefined,
});
sock.on('connect', () => session.connected(sock));
