import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { cmdline, startTime } from '../../src/sys/proc.js';
import type { SupervisorState } from '../../src/state/supervisor.js';
import { banner, CLI, Lab, snapshot, waitFor, needSshd } from './lab.js';
import { notifyReceiver } from '../helpers/notify-receiver.js';

/** A supervisor (`oob run`) in the lab's host namespace, in the foreground, its log collected. */
class Sup {
  log = '';
  exit: Promise<number>;
  constructor(readonly p: ChildProcess) {
    p.stderr!.on('data', (d) => (this.log += d));
    p.stdout!.on('data', (d) => (this.log += d));
    this.exit = new Promise((r) => p.on('close', (code, sig) => r(code ?? (sig === 'SIGKILL' ? 137 : 128))));
  }
  get pid() {
    return this.p.pid!;
  }
}

describe('integration: supervised service copies (oob run, start, stop)', function () {
  let lab: Lab;
  let sups: Sup[] = [];
  needSshd('the supervisor tests');
  beforeEach(async () => {
    lab = await Lab.create();
    await lab.makeHostKey();
  });
  afterEach(async () => {
    for (const s of sups) s.p.kill('SIGKILL');
    sups = [];
    await lab.destroy();
    expect(await lab.namespaces()).to.deep.equal([]);
    expect(await sshdCount(), 'an sshd of the lab survived it').to.equal(0);
  });

  const sshdArgs = (extra?: string) => lab.sshdCommand(extra);
  const profile = (services: string) => `${lab.seedProfile()}${services}`;
  const SSHD = () => `[service.sshd]\nexec = ${sshdArgs()} -o PidFile=none\nready = tcp:22\nrestart-delay = 200ms\n`;
  /** sshd processes of this lab (matched by the lab's own host key), wherever they are. */
  async function sshdCount(): Promise<number> {
    let n = 0;
    for (const pid of (await fsp.readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
      const argv = await cmdline(Number(pid));
      if (argv?.join(' ').includes(lab.hostKey) && argv.join(' ').includes('sshd')) n++;
    }
    return n;
  }
  const state = async (): Promise<SupervisorState | undefined> => {
    try {
      return JSON.parse(await fsp.readFile(path.join(lab.runtimeDir, lab.profile, 'state.json'), 'utf8'));
    } catch {
      return undefined;
    }
  };
  function run(env: NodeJS.ProcessEnv = {}): Sup {
    const p = spawn('/usr/bin/nsenter', [`--net=/run/netns/${lab.host}`, '--', process.execPath, CLI, 'run', lab.profile], { env: lab.env(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const s = new Sup(p);
    sups.push(s);
    return s;
  }
  const ready = (s?: Sup) => waitFor('the supervisor to be ready', async () => {
    const st = await state();
    return st?.ready && (!s || st.supervisor.pid === s.pid) ? st : undefined;
  });

  it('runs a real sshd copy: its banner answers at the management address from the management LAN, nothing from the host side', async () => {
    await lab.writeProfile(profile(SSHD()));
    const s = run();
    const st = await ready(s);
    expect(st.services.sshd).to.include({ phase: 'running', ready: true, followed: 'child', restarts: 0 });
    expect(await banner(lab.router, '10.20.30.1', 22)).to.match(/^SSH-2\.0-OpenSSH/);
    expect(await banner(lab.host, '10.20.30.1', 22)).not.to.match(/^SSH-/);
    expect(s.log).to.match(new RegExp(`${lab.profile}/sshd: Server listening on 10\\.20\\.30\\.1 port 22`));
  });

  it('brings a copy killed with SIGKILL back, with a new pid, within its back-off', async () => {
    await lab.writeProfile(profile(SSHD()));
    const s = run();
    const before = (await ready(s)).services.sshd!;
    process.kill(before.pid!, 'SIGKILL');
    const t0 = Date.now();
    const after = await waitFor('sshd to come back', async () => {
      const sv = (await state())?.services.sshd;
      return sv?.ready && sv.pid !== before.pid ? sv : undefined;
    }, 5000);
    expect(Date.now() - t0).to.be.below(3000);
    expect(after.restarts).to.equal(1);
    expect(after.lastExit).to.include({ signal: 'SIGKILL', reason: 'killed by SIGKILL' });
    expect(await banner(lab.router, '10.20.30.1', 22)).to.match(/^SSH-2\.0/);
  });

  it('reports a service that always fails as a crash loop, while the supervisor and the other services stay up', async () => {
    await lab.writeProfile(profile(`${SSHD()}[service.broken]\nexec = /bin/false\nrestart-delay = 50ms\nrestart-delay-max = 400ms\n`));
    const s = run();
    const st = await waitFor('a crash loop in the state file', async () => {
      const x = await state();
      return x?.services.broken?.crashLoop && x.services.sshd?.ready ? x : undefined;
    });
    expect(st.services.broken!.crashLoop!.exits).to.be.at.least(5);
    expect(st.services.broken!.lastExit).to.include({ code: 1, reason: 'exited with status 1' });
    expect(st.services.broken!.restarts).to.be.at.least(4);
    expect(s.log).to.match(/broken: crash loop: 5 exits in 60 s/);
    expect(() => process.kill(s.pid, 0)).not.to.throw();
    expect(await banner(lab.router, '10.20.30.1', 22)).to.match(/^SSH-2\.0/);
  });

  it('on SIGTERM stops everything: nothing left in the namespace, the NIC back in the host, exit 0', async () => {
    await lab.writeProfile(profile(`${SSHD()}[service.sleeper]\nexec = /bin/sleep 1000\nstop-timeout = 1s\n`));
    const s = run();
    await ready(s);
    s.p.kill('SIGTERM');
    expect(await s.exit).to.equal(0);
    expect(await lab.namespaces()).not.to.include(lab.profile);
    expect((await snapshot(lab.host)).links.map((l) => l.ifname)).to.include(lab.nic);
    expect(await sshdCount()).to.equal(0);
    expect(existsSync(path.join(lab.runtimeDir, lab.profile, 'state.json'))).to.equal(false);
    expect(s.log).to.match(/network down: the NIC is back in the host/);
  });

  it('started again after a SIGKILL, it runs exactly one sshd', async () => {
    await lab.writeProfile(profile(SSHD()));
    const first = run();
    const old = (await ready(first)).services.sshd!.pid!;
    first.p.kill('SIGKILL');
    await first.exit;
    const second = run();
    await ready(second);
    expect(await sshdCount()).to.equal(1);
    expect(second.log).to.match(new RegExp(`stopping sshd \\(pid ${old}\\), left running by the previous supervisor`));
    expect(await banner(lab.router, '10.20.30.1', 22)).to.match(/^SSH-2\.0/);
  });

  it('on SIGHUP restarts only the service whose definition changed, and keeps the running set when the profile is invalid', async () => {
    await lab.writeProfile(profile(`${SSHD()}[service.sleeper]\nexec = /bin/sleep 1000\n`));
    const s = run();
    const st = await ready(s);
    const [sshd, sleeper] = [st.services.sshd!.pid, st.services.sleeper!.pid];
    await lab.writeProfile(profile(`${SSHD()}[service.sleeper]\nexec = /bin/sleep 2000\n`));
    s.p.kill('SIGHUP');
    const after = await waitFor('the changed service to restart', async () => {
      const x = await state();
      return x?.services.sleeper?.pid && x.services.sleeper.pid !== sleeper && x.ready ? x : undefined;
    });
    expect(after.services.sshd!.pid).to.equal(sshd);
    expect(s.log).to.match(/sleeper: its definition changed: restarting it/);
    await lab.writeProfile(profile(`${SSHD()}[service.sleeper]\nexec = /bin/sleep 3000\nbogus = 1\n`));
    s.p.kill('SIGHUP');
    await waitFor('the reload to be refused', async () => /reload refused, the running set is kept: .*bogus: unknown key/.test(s.log));
    const kept = await state();
    expect([kept!.services.sshd!.pid, kept!.services.sleeper!.pid]).to.deep.equal([sshd, after.services.sleeper!.pid]);
  });

  it('follows a daemon that forks (sshd without -D) through its PidFile, and restarts it when it dies', async () => {
    const pidfile = path.join(lab.dir, 'sshd.pid');
    await lab.writeProfile(profile(`[service.sshd]\nexec = ${sshdArgs('')} -o PidFile=${pidfile}\npidfile = ${pidfile}\nready = tcp:22\nrestart-delay = 200ms\n`));
    const s = run();
    const st = (await ready(s)).services.sshd!;
    const filePid = Number((await fsp.readFile(pidfile, 'utf8')).trim());
    expect(st).to.include({ followed: 'pidfile', pid: filePid });
    process.kill(filePid, 'SIGKILL');
    const back = await waitFor('the daemon to come back', async () => {
      const sv = (await state())?.services.sshd;
      return sv?.ready && sv.pid !== filePid ? sv : undefined;
    });
    expect(back.pid).to.equal(Number((await fsp.readFile(pidfile, 'utf8')).trim()));
    expect(back.lastExit!.reason).to.match(/is gone/);
    expect(await sshdCount()).to.equal(1);
  });

  it('start runs it in the background and returns once ready; stop waits until everything is gone', async () => {
    await lab.writeProfile(profile(SSHD()));
    const st = await lab.oob(['start', lab.profile]);
    expect(st.code, st.stderr).to.equal(0);
    expect(st.stdout).to.match(/started \(supervisor pid \d+\), 1\/1 services ready; log: /);
    const pid = (await state())!.supervisor.pid;
    expect(await banner(lab.router, '10.20.30.1', 22)).to.match(/^SSH-2\.0/);
    expect((await lab.oob(['start', lab.profile])).stdout).to.match(/already running/);
    const stop = await lab.oob(['stop', lab.profile]);
    expect(stop.code, stop.stderr).to.equal(0);
    expect(await startTime(pid), 'the supervisor is still there (a zombie counts as gone)').to.equal(undefined);
    expect(await lab.namespaces()).not.to.include(lab.profile);
    expect(await fsp.readFile(path.join(lab.runtimeDir, lab.profile, 'supervisor.log'), 'utf8')).to.match(/ready: .*1\/1 services ready/);
    expect((await lab.oob(['stop', lab.profile])).stdout).to.match(/no supervisor was running/);
  });

  it('stays up, keeping the network, when every service has stopped by its policy', async () => {
    await lab.writeProfile(profile(`[service.once]\nexec = /bin/true\nrestart = no\n`));
    const s = run();
    await waitFor('the service to finish', async () => (await state())?.services.once?.phase === 'stopped');
    await new Promise((r) => setTimeout(r, 500));
    expect(s.p.exitCode, s.log).to.equal(null);
    expect(await lab.namespaces()).to.include(lab.profile);
    s.p.kill('SIGTERM');
    expect(await s.exit).to.equal(0);
  });

  it('start refuses a bad profile with its line (exit 3) before starting or writing anything', async () => {
    await lab.writeProfile(profile(`[service.x]\nexec = /bin/true\nready = http:80\n`));
    const r = await lab.oob(['start', lab.profile]);
    expect(r.code).to.equal(3);
    expect(r.stderr.split('\n')[0]).to.match(/^oob: .*\.ini:\d+: \[service\.x\] ready: "http:80" is not tcp:PORT/);
    expect(await lab.namespaces()).not.to.include(lab.profile);
    expect(existsSync(path.join(lab.runtimeDir, lab.profile)), 'no runtime directory, no log').to.equal(false);
  });

  it('start passes on the exit code of a supervisor that dies before it is ready', async () => {
    // valid profile, but the NIC carries the host's only default route: the supervisor's up refuses (8)
    await lab.inHost(['ip', '-batch', '-'], `addr add 10.99.0.5/24 dev ${lab.nic}\nlink set ${lab.nic} up\nroute add default via 10.99.0.1 dev ${lab.nic}\n`);
    await lab.writeProfile(profile(''));
    const r = await lab.oob(['start', lab.profile]);
    expect(r.code).to.equal(8);
    expect(r.stderr.split('\n')[0], r.stderr).to.match(/^oob: the supervisor for .* exited with status 8 before it was ready: oob: refusing to move/);
    expect(await lab.namespaces()).not.to.include(lab.profile);
  });

  it('tells systemd: STATUS while starting, READY=1 only once sshd listens, WATCHDOG=1, STOPPING=1', async () => {
    const sock = path.join(lab.dir, 'notify.sock');
    const rx = await notifyReceiver(sock);
    try {
      await lab.writeProfile(profile(SSHD()));
      const s = run({ NOTIFY_SOCKET: sock, WATCHDOG_USEC: '400000' });
      const msgs = (await rx.wait('READY=1')).map((d) => d.msg);
      const readyAt = msgs.findIndex((m) => m.includes('READY=1'));
      expect(msgs[readyAt]).to.include(`STATUS=${lab.profile}: 1/1 services ready`);
      expect(readyAt).to.be.greaterThan(msgs.findIndex((m) => m.includes('bringing the network up')));
      // READY came after sshd listened: the listening line was logged before it was sent
      expect(s.log.indexOf('Server listening')).to.be.greaterThan(-1);
      expect(s.log.indexOf('Server listening')).to.be.below(s.log.indexOf('ready: '));
      await rx.wait('WATCHDOG=1', 3000);
      s.p.kill('SIGTERM');
      expect(await s.exit).to.equal(0);
      const all = rx.datagrams();
      expect(all.some((d) => d.msg.includes('STOPPING=1'))).to.equal(true);
      expect(all.every((d) => d.pid === s.pid && d.msg.startsWith(`MAINPID=${s.pid}\n`)), JSON.stringify(all)).to.equal(true);
    } finally {
      rx.close();
    }
  });
});
