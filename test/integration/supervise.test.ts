import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { cmdline, netnsId, startTime } from '../../src/sys/proc.js';
import { Service } from '../../src/supervise/service.js';
import { realHost } from '../../src/supervise/host.js';
import { LOG_CAP_BYTES } from '../../src/supervise/logsink.js';
import { MAX_LINE, TRUNCATED } from '../../src/supervise/lines.js';
import type { ServiceConfig } from '../../src/profile/types.js';
import type { SupervisorState } from '../../src/state/supervisor.js';
import { banner, CLI, Lab, must, snapshot, Sup, waitFor, needSshd } from './lab.js';
import { notifyReceiver } from '../helpers/notify-receiver.js';

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
  function run(env: NodeJS.ProcessEnv = {}, stderr?: number): Sup {
    const p = spawn(
      '/usr/bin/nsenter',
      [`--net=/run/netns/${lab.host}`, '--', process.execPath, CLI, 'run', lab.profile],
      { env: lab.env(env), stdio: ['ignore', 'pipe', stderr ?? 'pipe'] },
    );
    const s = new Sup(p);
    sups.push(s);
    return s;
  }
  const ready = (s?: Sup) =>
    waitFor('the supervisor to be ready', async () => {
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
    const after = await waitFor(
      'sshd to come back',
      async () => {
        const sv = (await state())?.services.sshd;
        return sv?.ready && sv.pid !== before.pid ? sv : undefined;
      },
      5000,
    );
    expect(Date.now() - t0).to.be.below(3000);
    expect(after.restarts).to.equal(1);
    expect(after.lastExit).to.include({ signal: 'SIGKILL', reason: 'killed by SIGKILL' });
    expect(await banner(lab.router, '10.20.30.1', 22)).to.match(/^SSH-2\.0/);
  });

  it('reports a service that always fails as a crash loop, while the supervisor and the other services stay up', async () => {
    await lab.writeProfile(
      profile(`${SSHD()}[service.broken]\nexec = /bin/false\nrestart-delay = 50ms\nrestart-delay-max = 400ms\n`),
    );
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
    await waitFor('the reload to be refused', async () =>
      /reload refused, the running set is kept: .*bogus: unknown key/.test(s.log),
    );
    const kept = await state();
    expect([kept!.services.sshd!.pid, kept!.services.sleeper!.pid]).to.deep.equal([sshd, after.services.sleeper!.pid]);
  });

  it('follows a daemon that forks (sshd without -D) through its PidFile, and restarts it when it dies', async () => {
    const pidfile = path.join(lab.dir, 'sshd.pid');
    await lab.writeProfile(
      profile(
        `[service.sshd]\nexec = ${sshdArgs('')} -o PidFile=${pidfile}\npidfile = ${pidfile}\nready = tcp:22\nrestart-delay = 200ms\n`,
      ),
    );
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
    expect(await fsp.readFile(path.join(lab.runtimeDir, lab.profile, 'supervisor.log'), 'utf8')).to.match(
      /ready: .*1\/1 services ready/,
    );
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
    await lab.inHost(
      ['ip', '-batch', '-'],
      `addr add 10.99.0.5/24 dev ${lab.nic}\nlink set ${lab.nic} up\nroute add default via 10.99.0.1 dev ${lab.nic}\n`,
    );
    await lab.writeProfile(profile(''));
    const r = await lab.oob(['start', lab.profile]);
    expect(r.code).to.equal(8);
    expect(r.stderr.split('\n')[0], r.stderr).to.match(
      /^oob: the supervisor for .* exited with status 8 before it was ready: oob: refusing to move/,
    );
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
      expect(
        all.every((d) => d.pid === s.pid && d.msg.startsWith(`MAINPID=${s.pid}\n`)),
        JSON.stringify(all),
      ).to.equal(true);
    } finally {
      rx.close();
    }
  });
  // --- issue 8 items 6, 7, 8; issue 16 item 3 ---

  /** Resolves with the exit code once the supervisor has exited, or fails after ms. */
  const exited = (s: Sup, ms: number) =>
    waitFor(
      'the supervisor to exit',
      async () => (s.p.exitCode !== null ? { code: s.p.exitCode } : s.p.signalCode ? { code: 128 } : undefined),
      ms,
    ).then((r) => r.code);
  /**
   * Has the supervisor installed its signal handlers? Node itself catches SIGTERM from its first
   * instruction (to restore the terminal), so the sign is SIGHUP (SigCgt bit 1), which only the
   * supervisor catches, in the same place as its SIGTERM handler.
   */
  const handlesSignals = async (pid: number) => {
    const m = /SigCgt:\s+([0-9a-f]+)/.exec(await fsp.readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
    return !!m && (BigInt(`0x${m[1]}`) & 1n) !== 0n;
  };
  /** Processes whose parent is pid. */
  async function childrenOf(pid: number): Promise<number[]> {
    const out: number[] = [];
    for (const d of (await fsp.readdir('/proc')).filter((x) => /^\d+$/.test(x))) {
      const stat = await fsp.readFile(`/proc/${d}/stat`, 'utf8').catch(() => '');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    }
    return out;
  }
  const hwmMb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  /** A sleep of this lab's own, to find its processes by their command line. */
  const sleepArg = () => String(10_000_000 + parseInt(lab.id, 16));
  async function countCmd(words: string): Promise<number> {
    let n = 0;
    for (const pid of (await fsp.readdir('/proc')).filter((d) => /^\d+$/.test(d)))
      if ((await cmdline(Number(pid)))?.join(' ') === words) n++;
    return n;
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('restarts a service the moment its main process dies, though a child of it holds its output open; SIGTERM then does not wait for that child', async () => {
    await lab.writeProfile(
      profile(
        `[service.holder]\nexec = /bin/sh -c 'sleep ${sleepArg()} & exec sleep 1000'\nrestart-delay = 200ms\nstop-timeout = 30s\n`,
      ),
    );
    const s = run();
    const before = (await ready(s)).services.holder!;
    await waitFor('the background child to run', async () => (await countCmd(`sleep ${sleepArg()}`)) === 1);
    process.kill(before.pid!, 'SIGKILL');
    const after = await waitFor(
      'the service to come back with a new pid',
      async () => {
        const sv = (await state())?.services.holder;
        return sv?.phase === 'running' && sv.pid !== before.pid ? sv : undefined;
      },
      5000,
    );
    expect(after.lastExit).to.include({ signal: 'SIGKILL', reason: 'killed by SIGKILL' });
    expect(after.restarts).to.equal(1);
    s.p.kill('SIGTERM');
    expect(await exited(s, 10_000), s.log).to.equal(0);
    expect(await countCmd(`sleep ${sleepArg()}`), 'the children that held the output are gone too').to.equal(0);
  });

  it('restarts sshd killed while a connection of it (a child holding its stderr) is open, and never shows the dead pid ready', async () => {
    await lab.writeProfile(profile(SSHD()));
    const s = run();
    const before = (await ready(s)).services.sshd!;
    const code = `require('net').connect(22,'10.20.30.1');setTimeout(()=>{},60000)`;
    const client = spawn('nsenter', [`--net=/run/netns/${lab.router}`, '--', process.execPath, '-e', code], {
      stdio: 'ignore',
    });
    try {
      await waitFor(
        'sshd to fork a child for the connection',
        async () => (await childrenOf(before.pid!)).length === 1,
      );
      process.kill(before.pid!, 'SIGKILL');
      const seen: Array<{ pid?: number | undefined; ready: boolean }> = [];
      const after = await waitFor(
        'sshd to come back with a new pid',
        async () => {
          const sv = (await state())?.services.sshd;
          if (sv) seen.push({ pid: sv.pid, ready: sv.ready });
          return sv?.ready && sv.pid !== before.pid ? sv : undefined;
        },
        5000,
      );
      expect(
        seen.filter((x) => x.ready && x.pid === before.pid).length,
        'state files after the kill that showed the dead pid ready',
      ).to.be.below(2);
      expect(after.lastExit).to.include({ signal: 'SIGKILL' });
      expect(await banner(lab.router, '10.20.30.1', 22)).to.match(/^SSH-2\.0/);
    } finally {
      client.kill('SIGKILL');
    }
  });

  for (const delay of [0, 50, 150, 300]) {
    it(`SIGTERM ${delay} ms after the supervisor takes the signal: a clean stop, exit 0, nothing started after it, nothing left`, async () => {
      await lab.writeProfile(profile(`${SSHD()}[service.sleeper]\nexec = /bin/sleep ${sleepArg()}\n`));
      const s = run();
      await waitFor('the supervisor to handle SIGTERM', () => handlesSignals(s.pid), 10_000);
      await sleep(delay);
      s.p.kill('SIGTERM');
      expect(await exited(s, 30_000), s.log).to.equal(0);
      const stopAt = s.log.search(/SIGTERM: stopping/);
      expect(stopAt, s.log).to.be.greaterThan(-1);
      expect(s.log.slice(stopAt), 'a service started after the stop began').not.to.match(/started \w+ \(pid/);
      expect(await lab.namespaces()).not.to.include(lab.profile);
      expect((await snapshot(lab.host)).links.map((l) => l.ifname)).to.include(lab.nic);
      expect(await sshdCount()).to.equal(0);
      expect(await countCmd(`/bin/sleep ${sleepArg()}`)).to.equal(0);
      expect(existsSync(path.join(lab.runtimeDir, lab.profile, 'state.json'))).to.equal(false);
    });
  }

  it('notices its namespace deleted under it (ip netns del) and stops with one line, instead of a crash loop', async () => {
    await lab.writeProfile(profile(`[service.sleeper]\nexec = /bin/sleep ${sleepArg()}\nrestart-delay = 50ms\n`));
    const s = run();
    await ready(s);
    await must(['ip', 'netns', 'del', lab.profile]);
    const code = await exited(s, 10_000);
    expect(s.log).to.match(
      new RegExp(
        `the namespace ${lab.profile} was deleted while the supervisor ran .*: stopping; to bring it back: oob start ${lab.profile}`,
      ),
    );
    expect(code, s.log).to.equal(7);
    expect(s.log.match(/started sleeper/g)).to.have.length(1);
    expect(await countCmd(`/bin/sleep ${sleepArg()}`)).to.equal(0);
  });

  it('notices `oob down` run under it: the NIC back in the host, the supervisor stopped, no crash loop', async () => {
    // a restart delay longer than the down: `oob down` itself kills what runs in the namespace
    await lab.writeProfile(profile(`[service.sleeper]\nexec = /bin/sleep ${sleepArg()}\nrestart-delay = 3s\n`));
    const s = run();
    await ready(s);
    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await exited(s, 10_000), s.log).to.equal(7);
    expect(s.log).to.match(/was deleted while the supervisor ran/);
    expect(s.log.match(/started sleeper/g)!.length).to.be.below(4);
    expect((await snapshot(lab.host)).links.map((l) => l.ifname)).to.include(lab.nic);
    expect(await countCmd(`/bin/sleep ${sleepArg()}`)).to.equal(0);
  });

  it('keeps running and restarting services with its stderr on /dev/full', async () => {
    await fsp.writeFile(path.join(lab.dir, 'blip.sh'), '#!/bin/sh\necho hello\necho oops >&2\nsleep 0.1\nexit 1\n', {
      mode: 0o755,
    });
    await lab.writeProfile(
      profile(`[service.blip]\nexec = ${lab.dir}/blip.sh\nrestart-delay = 50ms\nrestart-delay-max = 100ms\n`),
    );
    const full = openSync('/dev/full', 'w');
    let s: Sup;
    try {
      s = run({}, full);
    } finally {
      closeSync(full);
    }
    const st = await waitFor('three restarts', async () => {
      const x = await state();
      return (x?.services.blip?.restarts ?? 0) >= 3 ? x : undefined;
    });
    expect(st.supervisor.pid).to.equal(s.pid);
    expect(s.p.exitCode).to.equal(null);
    s.p.kill('SIGTERM');
    expect(await exited(s, 10_000)).to.equal(0);
  });

  it('reads a flood of output and a 50 MB line without a newline with bounded memory, and caps supervisor.log', async () => {
    await fsp.writeFile(
      path.join(lab.dir, 'flood.sh'),
      `#!/bin/sh\ntimeout 2 yes\necho flood over\ntouch ${lab.dir}/flood-over\nexec sleep 1000\n`,
      { mode: 0o755 },
    );
    await fsp.writeFile(
      path.join(lab.dir, 'line.sh'),
      // after the flood: the flood's rotations (4 MB each) would push the cut long line out of both logs
      `#!/bin/sh\nuntil [ -e ${lab.dir}/flood-over ]; do sleep 0.05; done\nhead -c 50000000 /dev/zero | tr '\\0' x\necho\necho after the long line\nexec sleep 1000\n`,
      { mode: 0o755 },
    );
    await lab.writeProfile(
      profile(`[service.flood]\nexec = ${lab.dir}/flood.sh\n[service.line]\nexec = ${lab.dir}/line.sh\n`),
    );
    const r = await lab.oob(['start', lab.profile]);
    expect(r.code, r.stderr).to.equal(0);
    const pid = (await state())!.supervisor.pid;
    const logFile = path.join(lab.runtimeDir, lab.profile, 'supervisor.log');
    const logs = async () =>
      (await fsp.readFile(`${logFile}.1`, 'utf8').catch(() => '')) + (await fsp.readFile(logFile, 'utf8'));
    await waitFor(
      'both outputs to be read',
      async () => {
        const l = await logs();
        return /flood: flood over/.test(l) && /line: after the long line/.test(l);
      },
      60_000,
    );
    expect(hwmMb(pid), 'peak resident memory of the supervisor, MB').to.be.below(150);
    expect((await fsp.stat(logFile)).size).to.be.at.most(LOG_CAP_BYTES + 64 * 1024);
    const text = await logs();
    const long = text.split('\n').filter((l) => l.includes('/line: xxx'));
    expect(long).to.have.length(1);
    expect(long[0]!.endsWith(TRUNCATED)).to.equal(true);
    expect(long[0]!.length).to.be.at.most(MAX_LINE + TRUNCATED.length + 40);
    expect(await startTime(pid), 'the supervisor is alive').to.not.equal(undefined);
    expect((await lab.oob(['stop', lab.profile])).code).to.equal(0);
  });

  it('pre-start commands run inside the namespace; one that fails leaves the service failed with its first line, and not restarted', async () => {
    const ns = await lab.addNs('p');
    const nsId = (await netnsId(`/run/netns/${ns}`))!;
    const seen = path.join(lab.dir, 'prestart-ns');
    const base: ServiceConfig = {
      name: 'chk',
      exec: ['/bin/sleep', sleepArg()],
      env: {},
      ready: { kind: 'none' },
      restart: 'always',
      restartDelayMs: 50,
      restartDelayMaxMs: 100,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 2000,
      prestart: [
        ['/bin/sh', '-c', `readlink /proc/self/ns/net > ${seen}`],
        ['/bin/sh', '-c', 'echo "bad config: line 3" >&2; echo more >&2; exit 3'],
      ],
    };
    const svc = new Service(base, {
      ns,
      nsId,
      env: { PATH: process.env.PATH },
      host: realHost(),
      log: () => {},
      output: () => {},
      changed: () => {},
    });
    svc.start();
    await waitFor('the pre-start check to fail', async () => svc.state.phase === 'failed');
    expect((await fsp.readFile(seen, 'utf8')).trim()).to.equal(nsId);
    const reason = `pre-start check failed: /bin/sh -c echo "bad config: line 3" >&2; echo more >&2; exit 3: bad config: line 3`;
    expect(svc.state).to.include({ phase: 'failed', error: reason, pid: undefined, restarts: 0 });
    await sleep(500);
    expect(svc.state).to.include({ phase: 'failed', restarts: 0 });
    expect(await countCmd(`/bin/sleep ${sleepArg()}`)).to.equal(0);
    svc.def = { ...base, prestart: [base.prestart[0]!] };
    svc.start();
    await waitFor('the service to run', async () => svc.state.phase === 'running');
    expect(await netnsId(`/proc/${svc.state.pid}/ns/net`)).to.equal(nsId);
    await svc.stop();
    expect(await countCmd(`/bin/sleep ${sleepArg()}`)).to.equal(0);
  });
});
