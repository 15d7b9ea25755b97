/**
 * The QuickFIX acceptor (test/interop/quickfix-acceptor, built by scripts/build_quickfix_acceptor.sh) for FIX
 * interop tests: built and started on a free loopback port as venue QFVENUE accepting TICKPATH.
 * When it cannot be built the suite is skipped with the reason, unless TICKPATH_REQUIRE_QUICKFIX=1,
 * where that is a failure (CI must not pass green without the independent engine).
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const kRoot = path.resolve(__dirname, '..', '..', '..');
const kScript = path.join(kRoot, 'scripts', 'build_quickfix_acceptor.sh');
const kBinary = path.join(kRoot, 'build', 'quickfix-acceptor', 'quickfix-acceptor');
const kStartTimeoutMs = 10000;

/** A loopback TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export class QuickfixAcceptor {
  /** Everything the acceptor printed (READY, LOGON/LOGOUT lines), stdout and stderr interleaved. */
  output = '';

  private constructor(readonly port: number, readonly dir: string, private readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => { this.output += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { this.output += d.toString(); });
  }

  /** Builds and starts the acceptor; resolves once it printed READY. Call from a `before` hook. */
  static async start(ctx: Mocha.Context, suite: string): Promise<QuickfixAcceptor> {
    const build = spawnSync('bash', [kScript], { encoding: 'utf8', timeout: 120000 });
    if (build.status !== 0 || !fs.existsSync(kBinary)) {
      const reason = `quickfix-acceptor could not be built: ${(build.stderr || build.stdout || String(build.error)).trim()}`;
      if (process.env.TICKPATH_REQUIRE_QUICKFIX === '1') throw new Error(`${reason} (TICKPATH_REQUIRE_QUICKFIX=1)`);
      console.warn(`    skipping ${suite}: ${reason}`);
      ctx.skip();
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickpath-quickfix-'));
    const port = await freePort();
    const child = spawn(kBinary, [String(port), path.join(dir, 'venue'), 'QFVENUE', 'TICKPATH'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const venue = new QuickfixAcceptor(port, dir, child);
    const t0 = Date.now();
    while (!venue.output.includes(`READY ${port}`)) {
      if (Date.now() - t0 > kStartTimeoutMs || child.exitCode !== null) {
        await venue.stop();
        throw new Error(`quickfix-acceptor did not start: ${venue.output}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return venue;
  }

  /**
   * Sends one test-control command (see quickfix_acceptor.cpp) and resolves to its "OK ..." line;
   * rejects on "ERR ..." or when no answer comes within `timeoutMs`.
   */
  async control(command: string, timeoutMs = 10000): Promise<string> {
    const from = this.output.length;
    const verb = command.split(' ')[0];
    this.child.stdin!.write(`${command}\n`);
    const t0 = Date.now();
    for (;;) {
      const lines = this.output.slice(from).split('\n');
      const ok = lines.find((l) => l.startsWith(`OK ${verb}`));
      if (ok) return ok;
      const err = lines.find((l) => l.startsWith(`ERR ${verb}`));
      if (err) throw new Error(`quickfix-acceptor: ${err}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`quickfix-acceptor: no answer to '${command}' in ${timeoutMs} ms; output: ${this.output.slice(from)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** SIGTERM, then removes its store; resolves to the exit code (0: a clean shutdown). */
  async stop(): Promise<number | null> {
    let code = this.child.exitCode;
    if (code === null && this.child.signalCode === null) {
      const exited = new Promise<number | null>((r) => this.child.once('exit', (c) => r(c)));
      this.child.stdin!.end();
      this.child.kill('SIGTERM');
      code = await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}
