// Locks on real sockets and real processes: another user, a SIGKILLed holder, many contenders.
import { expect } from 'chai';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireLock } from '../../../src/engine/lock.js';
import { OobError } from '../../../src/errors.js';
import { lockDir } from '../../../src/state/layout.js';

const LOCK_JS = new URL('../../../src/engine/lock.js', import.meta.url).pathname;

/** A node process running code (an ES module) as uid:gid; its output lines, and a way to talk to it. */
function child(
  code: string,
  as?: { uid: number; gid: number },
): { proc: ChildProcess; lines: string[]; next: () => Promise<string>; ended: Promise<number | null> } {
  const argv = [process.execPath, '--input-type=module', '-e', code];
  const proc = as
    ? spawn('setpriv', [`--reuid=${as.uid}`, `--regid=${as.gid}`, '--clear-groups', '--', ...argv], {
        stdio: ['pipe', 'pipe', 'inherit'],
      })
    : spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  let buf = '';
  proc.stdout!.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  const ended = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  const next = () =>
    lines.length
      ? Promise.resolve(lines.shift()!)
      : Promise.race([new Promise<string>((r) => waiting.push(r)), ended.then((c) => `exited ${c}`)]);
  return { proc, lines, next, ended };
}

describe('engine/lock: a lock under a root-only directory', function () {
  let top: string;
  let runtime: string;
  before(function () {
    if (process.geteuid?.() !== 0) this.skip();
  });
  beforeEach(async () => {
    top = await fsp.mkdtemp(path.join(os.tmpdir(), 'oob-lock-'));
    await fsp.chmod(top, 0o755); // like /run: others may look, not write
    runtime = path.join(top, 'run');
  });
  afterEach(async () => {
    await fsp.rm(top, { recursive: true, force: true });
  });

  describe('another user', () => {
    const user = `oobt${randomBytes(3).toString('hex')}`;
    let ids: { uid: number; gid: number };
    let squatter: ReturnType<typeof child> | undefined;
    before(() => {
      execFileSync('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', user]);
      ids = {
        uid: Number(execFileSync('id', ['-u', user]).toString()),
        gid: Number(execFileSync('id', ['-g', user]).toString()),
      };
    });
    after(() => {
      squatter?.proc.kill('SIGKILL');
      execFileSync('userdel', [user]);
    });

    it("can neither block nor take a profile's lock", async () => {
      const name = 'mgmt';
      // what a local user could do to the old abstract-socket locks: bind their names first
      squatter = child(
        `
        import { createServer } from 'node:net';
        const { acquireLock } = await import(${JSON.stringify(LOCK_JS)});
        const bind = (p) => new Promise((r) => { const s = createServer(); s.once('error', (e) => r(e.code)); s.listen({ path: p, exclusive: true }, () => r('bound')); });
        const take = () => acquireLock(${JSON.stringify(runtime)}, ${JSON.stringify(name)}, 0).then(() => 'taken', (e) => e.code);
        console.log(JSON.stringify({ abstract: await bind('\\0oob-lock:${runtime}:${name}'), abstractRun: await bind('\\0oob-lock:${runtime}:${name}.run'), take: await take() }));
        process.stdin.once('data', async () => {
          console.log(JSON.stringify({ take: await take(), bindInLocks: await bind(${JSON.stringify(path.join(lockDir(runtime), `profile:${name}@x`))}) }));
        });
      `,
        ids,
      );
      expect(JSON.parse(await squatter.next())).to.deep.equal({
        abstract: 'bound',
        abstractRun: 'bound',
        take: 'EACCES',
      });
      const held = await acquireLock(runtime, name, 0);
      const sup = await acquireLock(runtime, name, 0, { kind: 'supervisor' });
      expect((await fsp.stat(lockDir(runtime))).mode & 0o777).to.equal(0o700);
      squatter.proc.stdin!.write('again\n');
      expect(JSON.parse(await squatter.next())).to.deep.equal({ take: 'permission', bindInLocks: 'EACCES' });
      await sup.release();
      await held.release();
      expect(await fsp.readdir(lockDir(runtime))).to.deep.equal([]);
    });
  });

  it('profile "a.run" and the supervisor of "a" are two locks; two supervisors of "a" are one', async () => {
    const profileARun = await acquireLock(runtime, 'a.run', 0);
    const supA = await acquireLock(runtime, 'a', 0, { kind: 'supervisor' });
    const profileA = await acquireLock(runtime, 'a', 0);
    const again = await acquireLock(runtime, 'a', 0, { kind: 'supervisor' }).catch((e: unknown) => e);
    expect(again).to.be.instanceOf(OobError).with.property('code', 'busy');
    for (const l of [profileARun, supA, profileA]) await l.release();
  });

  it('a SIGKILLed holder leaves the lock free at once, and its socket file is cleared', async () => {
    const holder = child(`
      const { acquireLock } = await import(${JSON.stringify(LOCK_JS)});
      await acquireLock(${JSON.stringify(runtime)}, 'k', 0, { keepAlive: true });
      console.log('held');
    `);
    expect(await holder.next()).to.equal('held');
    expect(await acquireLock(runtime, 'k', 0).catch((e: unknown) => e))
      .to.be.instanceOf(OobError)
      .with.property('code', 'busy');
    holder.proc.kill('SIGKILL');
    await holder.ended;
    expect(await fsp.readdir(lockDir(runtime))).to.have.length(1); // the dead holder's socket
    const l = await acquireLock(runtime, 'k', 0);
    expect(
      (await fsp.readdir(lockDir(runtime))).filter((f) => !f.startsWith('profile:k@' + process.pid + '-')),
    ).to.deep.equal([]);
    await l.release();
  });

  it('processes that all want one lock hold it one after the other', async () => {
    const log = path.join(top, 'log');
    const contenders = Array.from({ length: 6 }, () =>
      child(`
      import { appendFileSync } from 'node:fs';
      const { acquireLock } = await import(${JSON.stringify(LOCK_JS)});
      for (let i = 0; i < 5; i++) {
        const l = await acquireLock(${JSON.stringify(runtime)}, 'busy', 60000);
        appendFileSync(${JSON.stringify(log)}, 'in ' + process.pid + '\\n');
        await new Promise((r) => setTimeout(r, 10));
        appendFileSync(${JSON.stringify(log)}, 'out ' + process.pid + '\\n');
        await l.release();
      }
    `),
    );
    expect(await Promise.all(contenders.map((c) => c.ended))).to.deep.equal([0, 0, 0, 0, 0, 0]);
    const lines = (await fsp.readFile(log, 'utf8')).trim().split('\n');
    expect(lines).to.have.length(60);
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]).to.match(/^in \d+$/);
      expect(lines[i + 1]).to.equal(lines[i]!.replace('in', 'out'));
    }
    expect(await fsp.readdir(lockDir(runtime))).to.deep.equal([]);
  });

  it('a lock directory that others could enter, or that is not ours, is refused (exit 5), never used', async () => {
    (await acquireLock(runtime, 'x', 0)).release();
    await fsp.chmod(lockDir(runtime), 0o755);
    const open = await acquireLock(runtime, 'x', 0).catch((e: unknown) => e);
    expect(open)
      .to.be.instanceOf(OobError)
      .with.property('message')
      .that.matches(/locks: mode 755: other users could take or block oob's locks; fix with: chmod 700 /);
    expect((open as OobError).exitCode).to.equal(5);
    await fsp.chmod(lockDir(runtime), 0o700);
    await fsp.chown(lockDir(runtime), 65534, 65534);
    expect(await acquireLock(runtime, 'x', 0).catch((e: unknown) => e))
      .to.be.instanceOf(OobError)
      .with.property('message')
      .that.matches(/locks: owned by uid 65534, not root/);
  });

  it('a runtime directory too long for a socket name is refused, never truncated into another lock', async () => {
    const long = path.join(top, 'r'.repeat(100));
    const err = await acquireLock(long, 'mgmt', 0).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(OobError).with.property('code', 'precondition');
    expect((err as OobError).message).to.match(
      /too long for oob's lock sockets .*set OOB_RUNTIME_DIR to a shorter directory$/,
    );
  });
});
