/**
 * Test helper, run as its own process inside a network namespace: sends the datagrams of a file
 * (u16 line index, u16 length, bytes; repeated) to multicast lines over loopback, in file order with
 * a short pause every 50 datagrams so the receiver's socket buffers never overflow.
 * Usage: node udp-ab-sender.js FILE GROUP:PORT [GROUP:PORT...]
 * Threading: one thread; exits when every datagram was sent.
 */
import * as dgram from 'dgram';
import * as fs from 'fs';

async function main(): Promise<void> {
  const [file, ...dests] = process.argv.slice(2);
  const lines = dests.map((d) => { const [g, p] = d.split(':'); return { group: g, port: Number(p) }; });
  const data = fs.readFileSync(file);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  sock.setMulticastInterface('127.0.0.1');
  sock.setMulticastLoopback(true);
  let at = 0, n = 0;
  while (at < data.length) {
    const line = data.readUInt16LE(at), len = data.readUInt16LE(at + 2);
    const d = data.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    await new Promise<void>((resolve, reject) => sock.send(d, lines[line].port, lines[line].group, (err) => (err ? reject(err) : resolve())));
    if (++n % 50 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  sock.close();
  console.log(`sent ${n}`);
}

main().catch((err) => { console.error(err); process.exit(1); });
