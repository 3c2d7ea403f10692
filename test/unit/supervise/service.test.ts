import { expect } from 'chai';
import { Service } from '../../../src/supervise/service.js';
import type { ServiceConfig } from '../../../src/profile/types.js';
import type { ServicePhase } from '../../../src/state/supervisor.js';
import { def, FakeHost, flush, NS_ID } from './fake-host.js';

/** A service on a fake host, with every phase it went through and every log line. */
function make(d: ServiceConfig, o: { nsAlive?: () => boolean } = {}) {
  const host = new FakeHost();
  const phases: ServicePhase[] = [];
  const logs: string[] = [];
  const out: string[] = [];
  let gone = 0;
  const svc: Service = new Service(d, {
    ns: 'mgmt',
    nsId: NS_ID,
    env: { PATH: '/usr/bin' },
    host,
    log: (m) => logs.push(m),
    output: (s, l) => out.push(`${s}: ${l}`),
    changed: () => {
      if (phases[phases.length - 1] !== svc.state.phase) phases.push(svc.state.phase);
    },
    ...(o.nsAlive ? { namespaceAlive: async () => o.nsAlive!(), namespaceGone: () => void gone++ } : {}),
  });
  return { host, svc, phases, logs, out, gone: () => gone };
}

const delayOf = (svc: Service, now: number) => Date.parse(svc.state.nextStartAt!) - now;

describe('supervise/service: the service state machine, on a fake spawner and clock', () => {
  it('starts through ip netns exec and is running at once without a readiness check', async () => {
    const { host, svc, phases, logs } = make(def());
    svc.start();
    await flush();
    expect(host.last.argv).to.deep.equal(['ip', 'netns', 'exec', 'mgmt', '/usr/sbin/daemon', '-D']);
    expect(svc.state).to.include({
      phase: 'running',
      ready: true,
      pid: 100,
      pidStart: 700,
      followed: 'child',
      restarts: 0,
    });
    expect(phases).to.deep.equal(['starting', 'running']);
    expect(logs).to.deep.equal(['started svc (pid 100)']);
  });

  it('a crash goes to backoff with the base delay, then starts a new copy and counts the restart', async () => {
    const { host, svc, phases } = make(def());
    svc.start();
    await flush();
    host.last.die(null, 'SIGKILL');
    await flush();
    expect(svc.state).to.include({ phase: 'backoff', ready: false, pid: undefined });
    expect(svc.state.lastExit).to.include({ signal: 'SIGKILL', reason: 'killed by SIGKILL' });
    expect(delayOf(svc, host.clock.now())).to.equal(100);
    await host.clock.advance(99);
    expect(host.procs).to.have.length(1);
    await host.clock.advance(1);
    expect(host.procs).to.have.length(2);
    expect(svc.state).to.include({ phase: 'running', pid: 101, restarts: 1 });
    expect(phases).to.deep.equal(['starting', 'running', 'backoff', 'starting', 'running']);
  });

  it('doubles the delay at each quick failure up to restart-delay-max, and starts from the base again after a 10 s run', async () => {
    const { host, svc } = make(def({ restartDelayMs: 100, restartDelayMaxMs: 1000 }));
    svc.start();
    await flush();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      host.last.die(1);
      await flush();
      delays.push(delayOf(svc, host.clock.now()));
      await host.clock.advance(delays[i]!);
    }
    expect(delays).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
    await host.clock.advance(10_000);
    host.last.die(1);
    await flush();
    expect(delayOf(svc, host.clock.now())).to.equal(100);
  });

  it('reports a crash loop at the 5th exit within 60 s, once in the log, and clears it after a stable run', async () => {
    const { host, svc, logs } = make(def({ restartDelayMs: 50, restartDelayMaxMs: 400 }));
    svc.start();
    await flush();
    for (let i = 0; i < 4; i++) {
      host.last.die(1);
      await flush();
      expect(svc.state.crashLoop, `exit ${i + 1}`).to.equal(undefined);
      await host.clock.advance(1000);
    }
    const since = host.clock.now();
    host.last.die(1);
    await flush();
    expect(svc.state.crashLoop).to.deep.equal({ exits: 5, windowSec: 60, since: new Date(since).toISOString() });
    expect(svc.state.lastExit).to.include({ code: 1, reason: 'exited with status 1' });
    await host.clock.advance(1000);
    host.last.die(1);
    await flush();
    expect(svc.state.crashLoop).to.deep.include({ exits: 6, since: new Date(since).toISOString() });
    expect(
      logs.filter((l) =>
        /crash loop: 5 exits in 60 s; retrying with a growing delay \(now 400 ms, at most 400 ms\)/.test(l),
      ),
    ).to.have.length(1);
    expect(logs.filter((l) => /crash loop/.test(l))).to.have.length(1);
    await host.clock.advance(70_000);
    host.last.die(1);
    await flush();
    expect(svc.state.crashLoop).to.equal(undefined);
  });

  for (const [restart, code, phase] of [
    ['no', 0, 'stopped'],
    ['no', 1, 'failed'],
    ['on-failure', 0, 'stopped'],
  ] as const) {
    it(`restart = ${restart}: an exit with status ${code} leaves it ${phase}, with no timer`, async () => {
      const { host, svc } = make(def({ restart }));
      svc.start();
      await flush();
      host.last.die(code);
      await flush();
      expect(svc.state).to.include({ phase, ready: false, pid: undefined });
      await host.clock.advance(60_000);
      expect(host.procs).to.have.length(1);
    });
  }

  it('restart = on-failure restarts after a failure', async () => {
    const { host, svc } = make(def({ restart: 'on-failure' }));
    svc.start();
    await flush();
    host.last.die(3);
    await host.clock.advance(100);
    expect(host.procs).to.have.length(2);
  });

  it('stop: stopping, the stop signal through terminate, then stopped for good ("stopped by oob")', async () => {
    const { host, svc, phases } = make(def({ stopSignal: 'SIGINT' }));
    svc.start();
    await flush();
    await svc.stop();
    expect(host.terminated).to.deep.equal([{ pid: 100, signal: 'SIGINT' }]);
    expect(svc.state).to.include({ phase: 'stopped', ready: false, pid: undefined });
    expect(svc.state.lastExit!.reason).to.equal('stopped by oob');
    expect(phases).to.deep.equal(['starting', 'running', 'stopping', 'stopped']);
    await host.clock.advance(60_000);
    expect(host.procs).to.have.length(1);
  });

  it('stop during the back-off cancels the restart', async () => {
    const { host, svc } = make(def());
    svc.start();
    await flush();
    host.last.die(1);
    await flush();
    await svc.stop();
    await host.clock.advance(60_000);
    expect(host.procs).to.have.length(1);
    expect(svc.state.phase).to.equal('stopped');
  });

  it('hold (the supervisor stopping): the pending restart never comes, and stop() then ends it', async () => {
    const { host, svc } = make(def());
    svc.start();
    await flush();
    host.last.die(1);
    await flush();
    svc.hold();
    await host.clock.advance(60_000);
    expect(host.procs).to.have.length(1);
    await svc.stop();
    expect(svc.state.phase).to.equal('stopped');
  });

  it('ready = tcp: starting until the port listens in the namespace, then running', async () => {
    const { host, svc } = make(def({ ready: { kind: 'tcp', port: 22 } }));
    svc.start();
    await host.clock.advance(200);
    expect(svc.state).to.include({ phase: 'starting', ready: false });
    host.last.ports = [22];
    await host.clock.advance(40);
    expect(svc.state).to.include({ phase: 'running', ready: true });
  });

  it('a copy that dies before it listens is never reported ready, and its pid goes with it', async () => {
    const { host, svc } = make(def({ ready: { kind: 'tcp', port: 22 } }));
    svc.start();
    await host.clock.advance(100);
    host.last.die(255);
    await host.clock.advance(50);
    expect(svc.state).to.include({ phase: 'backoff', ready: false, pid: undefined });
  });

  it('a forking daemon: followed through its pidfile once the starter exits 0, and restarted when the pid is gone', async () => {
    const { host, svc, phases } = make(def({ pidfile: '/run/d.pid', ready: { kind: 'pidfile' } }));
    host.pidfiles.set('/run/d.pid', 4242); // stale: removed before the start
    svc.start();
    await flush();
    expect(host.pidfiles.has('/run/d.pid')).to.equal(false);
    host.others.set(555, { start: 9, ns: NS_ID, ports: [] });
    host.pidfiles.set('/run/d.pid', 555);
    host.last.die(0);
    await host.clock.advance(100);
    expect(svc.state).to.include({ phase: 'running', pid: 555, pidStart: 9, followed: 'pidfile', ready: true });
    host.others.delete(555);
    await host.clock.advance(600);
    expect(phases).to.deep.equal(['starting', 'running', 'backoff', 'starting']);
    expect(svc.state.lastExit!.reason).to.equal('pid 555 (from /run/d.pid) is gone');
    expect(host.procs).to.have.length(2);
  });

  it('stopped after its starter exited but before the pidfile is written: stop waits for the daemon and ends it (no copy left unsupervised)', async () => {
    const { host, svc } = make(def({ pidfile: '/run/d.pid', ready: { kind: 'pidfile' } }));
    svc.start();
    await flush();
    host.last.die(0); // the starter forked and exited; the daemon writes its pidfile a moment later
    await host.clock.advance(40);
    let stopped = false;
    const stopping = svc.stop().then(() => (stopped = true));
    await flush();
    expect(svc.state.phase).to.equal('stopping');
    host.others.set(555, { start: 9, ns: NS_ID, ports: [] });
    host.pidfiles.set('/run/d.pid', 555);
    await host.clock.advance(20);
    await stopping;
    expect(stopped).to.equal(true);
    expect(host.terminated).to.deep.equal([{ pid: 555, signal: 'SIGTERM' }]);
    expect(host.others.has(555)).to.equal(false);
    expect(svc.state).to.include({ phase: 'stopped', ready: false, pid: undefined });
  });

  it('stopped before its starter exits: the daemon the starter already forked (named by the pidfile) is ended too', async () => {
    const { host, svc } = make(def({ pidfile: '/run/d.pid', ready: { kind: 'pidfile' } }));
    svc.start();
    await flush();
    // the daemon is up and wrote its pidfile; its starter has not exited yet
    host.others.set(556, { start: 9, ns: NS_ID, ports: [] });
    host.pidfiles.set('/run/d.pid', 556);
    await svc.stop();
    expect(host.terminated.map((t) => t.pid)).to.deep.equal([100, 556]);
    expect(host.others.has(556)).to.equal(false);
    expect(svc.state.phase).to.equal('stopped');
  });

  it('stopped while its starter runs, which still exits 0: the daemon it launched is waited for and ended', async () => {
    const { host, svc } = make(def({ pidfile: '/run/d.pid', ready: { kind: 'pidfile' } }));
    // a starter that finishes its job on the stop signal: it launched the daemon, which names itself later
    host.terminate = async (pid, _start, signal) => {
      host.terminated.push({ pid, signal });
      host.procs.find((x) => x.pid === pid)?.die(0);
      host.others.delete(pid);
    };
    svc.start();
    await flush();
    const stopping = svc.stop();
    await host.clock.advance(100);
    host.others.set(557, { start: 9, ns: NS_ID, ports: [] });
    host.pidfiles.set('/run/d.pid', 557);
    await host.clock.advance(20);
    await stopping;
    expect(host.terminated.map((t) => t.pid)).to.deep.equal([100, 557]);
    expect(svc.state.phase).to.equal('stopped');
  });

  it('a pidfile naming a process outside the namespace is never signalled by stop', async () => {
    const { host, svc } = make(def({ pidfile: '/run/d.pid', ready: { kind: 'pidfile' } }));
    svc.start();
    await flush();
    host.others.set(1234, { start: 9, ns: 'net:[4026531840]', ports: [] });
    host.pidfiles.set('/run/d.pid', 1234);
    await svc.stop();
    expect(host.terminated.map((t) => t.pid)).to.deep.equal([100]);
    expect(host.others.has(1234)).to.equal(true);
  });

  it('adopts a copy left by a crashed supervisor: follows it, keeps its restarts and start, restarts it when it dies', async () => {
    const { host, svc } = make(def());
    host.others.set(777, { start: 5, ns: NS_ID, ports: [] });
    svc.adopt(777, 5, '2025-12-31T00:00:00.000Z', 3);
    expect(svc.state).to.include({
      phase: 'running',
      pid: 777,
      followed: 'pidfile',
      restarts: 3,
      startedAt: '2025-12-31T00:00:00.000Z',
    });
    // the pid is reused by another process: not ours any more
    host.others.set(777, { start: 6, ns: NS_ID, ports: [] });
    await host.clock.advance(500);
    expect(svc.state.lastExit!.reason).to.equal('pid 777 (from the previous supervisor) is gone');
    await host.clock.advance(100);
    expect(host.procs).to.have.length(1);
    expect(svc.state).to.include({ phase: 'running', restarts: 4, followed: 'child' });
  });

  it('runs the pre-start commands in the namespace, in order, with the user prefix, before the service', async () => {
    const { host, svc } = make(
      def({
        user: 'nobody',
        prestart: [
          ['mkdir', '-p', '/run/x'],
          ['/usr/sbin/daemon', '-t'],
        ],
      }),
    );
    svc.start();
    await flush();
    const prefix = ['setpriv', '--reuid=65534', '--regid=65534', '--init-groups', '--'];
    expect(host.runs).to.deep.equal([
      ['ip', 'netns', 'exec', 'mgmt', ...prefix, 'mkdir', '-p', '/run/x'],
      ['ip', 'netns', 'exec', 'mgmt', ...prefix, '/usr/sbin/daemon', '-t'],
    ]);
    expect(host.last.argv).to.deep.equal(['ip', 'netns', 'exec', 'mgmt', ...prefix, '/usr/sbin/daemon', '-D']);
  });

  it('a failed pre-start check: failed with its reason, nothing started, no restart loop; start() (a reload) tries again', async () => {
    const { host, svc, logs } = make(def({ prestart: [['/usr/sbin/daemon', '-t']] }));
    host.runResults.set('-t', { code: 255, message: '/etc/daemon.conf line 3: Bad configuration option: Foo' });
    svc.start();
    await flush();
    const reason =
      'pre-start check failed: /usr/sbin/daemon -t: /etc/daemon.conf line 3: Bad configuration option: Foo';
    expect(svc.state).to.include({ phase: 'failed', ready: false, error: reason });
    expect(svc.state.lastExit).to.include({ code: 255, reason });
    expect(svc.prestartFailed).to.equal(true);
    expect(logs.some((l) => l.includes(reason))).to.equal(true);
    await host.clock.advance(120_000);
    expect(host.procs).to.have.length(0);
    expect(host.runs).to.have.length(1);
    host.runResults.delete('-t');
    svc.start();
    await flush();
    expect(host.runs).to.have.length(2);
    expect(svc.state).to.include({ phase: 'running', ready: true, error: undefined });
    expect(svc.prestartFailed).to.equal(false);
  });

  it('pre-start commands that passed early (prestart.ts) do not run again; not passed: they run, and a failure is reported', async () => {
    const d = def({ prestart: [['/usr/sbin/daemon', '-t']] });
    const passed = make(d);
    passed.svc.start(Promise.resolve(true));
    await flush();
    expect(passed.host.runs).to.deep.equal([]);
    expect(passed.svc.state).to.include({ phase: 'running', ready: true });

    const notPassed = make(d);
    notPassed.host.runResults.set('-t', { code: 255, message: 'Bad configuration option: Foo' });
    notPassed.svc.start(Promise.resolve(false));
    await flush();
    expect(notPassed.host.runs).to.deep.equal([['ip', 'netns', 'exec', 'mgmt', '/usr/sbin/daemon', '-t']]);
    expect(notPassed.svc.state).to.include({
      phase: 'failed',
      error: 'pre-start check failed: /usr/sbin/daemon -t: Bad configuration option: Foo',
    });
    expect(notPassed.host.procs).to.have.length(0);
  });

  it('an unknown user: a failed start, retried with the back-off', async () => {
    const { host, svc } = make(def({ user: 'nosuch' }));
    svc.start();
    await flush();
    expect(svc.state).to.include({ phase: 'backoff', error: 'user "nosuch" does not exist' });
    expect(svc.state.lastExit!.reason).to.equal('cannot start: user "nosuch" does not exist');
    expect(host.procs).to.have.length(0);
  });

  it('the namespace gone before a restart: failed, the supervisor told, nothing started', async () => {
    let alive = true;
    const { host, svc, gone } = make(def(), { nsAlive: () => alive });
    svc.start();
    await flush();
    alive = false;
    host.last.die(1);
    await host.clock.advance(60_000);
    expect(host.procs).to.have.length(1);
    expect(svc.state).to.include({ phase: 'failed', error: 'the namespace mgmt is gone' });
    expect(gone()).to.equal(1);
  });

  it('output lines go to the supervisor with the service name', async () => {
    const { host, svc, out } = make(def());
    svc.start();
    await flush();
    host.last.output('Server listening on 10.0.0.1 port 22.');
    expect(out).to.deep.equal(['svc: Server listening on 10.0.0.1 port 22.']);
  });
});
