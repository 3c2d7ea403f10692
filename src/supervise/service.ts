// One service copy inside the namespace, as a state machine. Its phase has one writer, enter();
// each transition is one method (systemd's service_set_state() and service_enter_*() are the
// model):
//
//   stopped/backoff/failed --enterStart--> (pre-start checks) --> starting --enterRunning--> running
//   starting/running --enterExited--> backoff (restart after a delay) | stopped | failed
//   starting/running --enterStopping--> stopping --> stopped
//   pre-start check fails --> failed (no restart until a reload or the next supervisor)
//
// It is started through `ip netns exec` (so /etc/netns/NAME applies; ip execs the command, so the
// child's pid is the service's) and followed: our child by its exit (not the end of its output), a
// daemon that forks by the pid in its pidfile, checked every 500 ms (Node has no pidfd). When to
// start it again is decided by backoff.ts; everything it asks of the system goes through a
// ServiceHost, so the whole machine runs in unit tests with a fake spawner and a fake clock.
import type { ServiceConfig } from '../profile/types.js';
import type { ServicePhase, ServiceState } from '../state/supervisor.js';
import { until } from '../sys/until.js';
import { afterExit, noHistory, LOOP_WINDOW_MS, type ExitHistory } from './backoff.js';
import type { ExitInfo, ServiceHost } from './host.js';
import type { Priority } from '../sys/journal.js';
import { prestartArgv, userPrefix } from './prestart.js';

export interface ServiceDeps {
  ns: string;
  /** The namespace's id as /proc/PID/ns/net shows it: a pid is only trusted once it is in there. */
  nsId: string;
  env: NodeJS.ProcessEnv;
  host: ServiceHost;
  log(msg: string, priority?: Priority): void;
  output(service: string, line: string): void;
  changed(): void;
  /** Is the namespace still the one we started in? Asked before each start. */
  namespaceAlive?(): Promise<boolean>;
  /** The namespace is gone: the supervisor decides what happens next. */
  namespaceGone?(): void;
}

export const FOLLOW_INTERVAL_MS = 500;
const READY_POLL_MS = 20;

type Exit = { code: number | null; signal: string | null; reason: string };

export class Service {
  state: ServiceState = { phase: 'stopped', ready: false, restarts: 0 };
  private history: ExitHistory = noHistory();
  /** Each start (and stop) gets a new run id: events of an older run are ignored. */
  private runId = 0;
  private stopping = false;
  /** Our child, while it runs. */
  private child: { pid: number | undefined; exit: Promise<ExitInfo> } | undefined;
  private cancelTimer: (() => void) | undefined;
  private stoppedWaiter: (() => void) | undefined;
  /** A pre-start check failed: the service waits for a reload. */
  prestartFailed = false;
  /**
   * The starter of a forking daemon exited and its pidfile is awaited: the daemon's pid, once the
   * pidfile names it. A stop in this window waits for it and ends it, or the daemon would run on
   * unsupervised (and a restart would start a second copy).
   */
  private daemonPending: Promise<number | undefined> | undefined;

  constructor(
    public def: ServiceConfig,
    private deps: ServiceDeps,
  ) {}

  get name() {
    return this.def.name;
  }

  private get host() {
    return this.deps.host;
  }

  private iso(ms = this.host.clock.now()) {
    return new Date(ms).toISOString();
  }

  /** The one writer of the phase (and of every field with it). */
  private enter(phase: ServicePhase, patch: Partial<Omit<ServiceState, 'phase'>> = {}): void {
    this.state = { ...this.state, ...patch, phase };
    this.deps.changed();
  }

  /** Fields that do not change the phase. */
  private update(patch: Partial<Omit<ServiceState, 'phase'>>): void {
    this.enter(this.state.phase, patch);
  }

  private clearTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private current(run: number): boolean {
    return run === this.runId && !this.stopping;
  }

  /**
   * Start the service (first start, after a reload, or after its restart delay). checked: the
   * supervisor's early run of the pre-start commands (supervise/prestart.ts); true when they passed
   * in this namespace, and then this start does not run them again.
   */
  start(checked?: Promise<boolean>): void {
    this.stopping = false;
    this.prestartFailed = false;
    void this.enterStart(++this.runId, checked);
  }

  private async enterStart(run: number, checked?: Promise<boolean>): Promise<void> {
    this.clearTimer();
    const d = this.def;
    if (this.deps.namespaceAlive && !(await this.deps.namespaceAlive())) {
      if (!this.current(run)) return;
      this.enterFailed(`the namespace ${this.deps.ns} is gone`);
      this.deps.namespaceGone?.();
      return;
    }
    const prefix = await userPrefix(d, this.host);
    if (!this.current(run)) return;
    if (typeof prefix === 'string') {
      this.deps.log(`${d.name}: cannot start: ${prefix}`, 'error');
      this.update({ error: prefix });
      return this.enterExited(run, { code: null, signal: null, reason: `cannot start: ${prefix}` }, true);
    }
    const env = { ...this.deps.env, ...d.env };
    // passed early: not again; not passed (or not run): run here, where a failure is reported
    const passed = checked ? await checked : false;
    if (!this.current(run)) return;
    for (const cmd of passed ? [] : (d.prestart ?? [])) {
      const r = await this.host.run(prestartArgv(this.deps.ns, prefix, cmd), env);
      if (!this.current(run)) return;
      if (r.code !== 0) return this.enterPrestartFailed(cmd, r);
    }
    if (d.pidfile) await this.host.removeFile(d.pidfile); // a stale pidfile would name someone else
    if (!this.current(run)) return;
    const child = this.host.spawn(['ip', 'netns', 'exec', this.deps.ns, ...prefix, ...d.exec], env, (l) =>
      this.deps.output(d.name, l),
    );
    this.child = child;
    const pid = child.pid;
    this.deps.log(`started ${d.name} (pid ${pid})`);
    const pidStart = pid ? await this.host.startTime(pid) : undefined;
    const now = this.iso();
    const noReady = d.ready.kind === 'none';
    this.enter('starting', {
      pid,
      pidStart,
      followed: 'child',
      startedAt: now,
      ready: noReady,
      readyAt: undefined,
      error: undefined,
      nextStartAt: undefined,
    });
    if (noReady) this.enterRunning(run, now);
    else if (d.ready.kind === 'tcp' && pid) void this.waitListening(run, pid, d.ready.port);
    const r = await child.exit;
    if (run !== this.runId) return;
    this.child = undefined;
    if (d.pidfile && r.code === 0 && !this.stopping) return this.followPidFile(run);
    const { code, signal } = r;
    const reason = this.stopping
      ? 'stopped by oob'
      : r.error
        ? `cannot start: ${r.error.message}`
        : signal
          ? `killed by ${signal}`
          : `exited with status ${code}`;
    this.enterExited(run, { code, signal, reason }, !!signal || code !== 0);
  }

  private enterPrestartFailed(cmd: string[], r: { code: number; message: string }): void {
    const reason = `pre-start check failed: ${cmd.join(' ')}: ${r.message || `exit ${r.code}`}`;
    this.deps.log(`${this.def.name}: ${reason}; not restarting it until a reload (SIGHUP) or the next start`, 'error');
    this.prestartFailed = true;
    this.enter('failed', {
      ready: false,
      pid: undefined,
      pidStart: undefined,
      error: reason,
      nextStartAt: undefined,
      lastExit: { code: r.code, signal: null, at: this.iso(), reason },
    });
  }

  private enterFailed(reason: string): void {
    this.deps.log(`${this.def.name}: ${reason}`, 'error');
    this.enter('failed', {
      ready: false,
      pid: undefined,
      pidStart: undefined,
      error: reason,
      nextStartAt: undefined,
      lastExit: { code: null, signal: null, at: this.iso(), reason },
    });
  }

  private enterRunning(run: number, at = this.iso()): void {
    if (run !== this.runId) return;
    this.enter('running', { ready: true, readyAt: at });
  }

  /** A daemon that forked: follow the pid its pidfile names. */
  private async followPidFile(run: number): Promise<void> {
    this.daemonPending = this.findDaemon(run, this.daemonWaitMs());
    const pid = await this.daemonPending;
    this.daemonPending = undefined;
    if (!this.current(run)) return;
    if (typeof pid !== 'number')
      return this.enterExited(
        run,
        {
          code: 0,
          signal: null,
          reason: `its starter exited but ${this.def.pidfile!} never named a live process in the namespace`,
        },
        true,
      );
    this.enterFollow(run, pid, await this.host.startTime(pid));
  }

  /** How long a starter's daemon has to name itself in its pidfile. */
  private daemonWaitMs(): number {
    return Math.max(10_000, this.def.stopTimeoutMs);
  }

  /**
   * The daemon of this run, once its pidfile names it, polled for up to timeoutMs (0: one look).
   * The poll goes on while a stop waits for it (stopping, same run): only another run ends it.
   */
  private async findDaemon(run: number, timeoutMs: number): Promise<number | undefined> {
    const clock = this.host.clock;
    const pid = await until(async () => (run !== this.runId ? true : this.daemonPid()), {
      intervalMs: READY_POLL_MS,
      timeoutMs,
      now: clock.now,
      sleep: clock.sleep,
    });
    return typeof pid === 'number' ? pid : undefined;
  }

  /** The process the pidfile names, if it lives in the namespace (the pidfile was removed before this run's start). */
  private async daemonPid(): Promise<number | undefined> {
    const p = this.def.pidfile && (await this.host.readPidFile(this.def.pidfile));
    return p && (await this.host.netnsOf(p)) === this.deps.nsId ? p : undefined;
  }

  /** Follow a process that is not our child (a forked daemon, or one adopted after a crash). */
  private enterFollow(run: number, pid: number, pidStart: number | undefined): void {
    const tcp = this.def.ready.kind === 'tcp';
    const now = this.iso();
    this.enter(tcp ? 'starting' : 'running', {
      pid,
      pidStart,
      followed: 'pidfile',
      ready: !tcp,
      ...(tcp ? {} : { readyAt: now }),
      startedAt: this.state.startedAt ?? now,
    });
    if (this.def.ready.kind === 'tcp') void this.waitListening(run, pid, this.def.ready.port);
    const check = async () => {
      if (run !== this.runId) return;
      const t = await this.host.startTime(pid);
      if (run !== this.runId) return;
      if (t !== undefined && (pidStart === undefined || t === pidStart)) {
        this.cancelTimer = this.host.clock.after(FOLLOW_INTERVAL_MS, () => void check());
        return;
      }
      this.enterExited(
        run,
        {
          code: null,
          signal: null,
          reason: this.stopping
            ? 'stopped by oob'
            : `pid ${pid} (from ${this.def.pidfile ?? 'the previous supervisor'}) is gone`,
        },
        true,
      );
    };
    this.cancelTimer = this.host.clock.after(FOLLOW_INTERVAL_MS, () => void check());
  }

  /** Take over a copy left running by a previous supervisor. */
  adopt(pid: number, pidStart: number | undefined, since: string | undefined, restarts: number): void {
    const run = ++this.runId;
    this.stopping = false;
    this.update({ restarts, ...(since ? { startedAt: since } : {}) });
    this.enterFollow(run, pid, pidStart);
  }

  private async waitListening(run: number, pid: number, port: number): Promise<void> {
    const clock = this.host.clock;
    let descendantsSeen = -Infinity;
    while (this.current(run)) {
      // only trust /proc/PID/net once the process is inside the namespace
      if ((await this.host.netnsOf(pid)) === this.deps.nsId) {
        // its own socket: another process listening on the port in the namespace is not this
        // service; its descendants (a pass over /proc) are looked at every FOLLOW_INTERVAL_MS only
        const now = clock.now();
        const descendants = now - descendantsSeen >= FOLLOW_INTERVAL_MS;
        if (descendants) descendantsSeen = now;
        const listens = await this.host.listensOn(pid, port, descendants);
        if (listens === undefined) return; // gone: the exit path takes over
        if (listens) {
          // the exit may have come while /proc was read: a dead pid is never reported ready
          if (this.current(run) && this.state.pid === pid && (await this.host.startTime(pid)) !== undefined)
            this.enterRunning(run);
          return;
        }
      } else if (!(await this.host.startTime(pid))) return;
      await clock.sleep(READY_POLL_MS);
    }
  }

  /** The process ended: stopped (we asked), or what backoff.ts says: stop, fail, or restart later. */
  private enterExited(run: number, exit: Exit, failure: boolean): void {
    if (run !== this.runId) return;
    this.clearTimer();
    this.child = undefined;
    const now = this.host.clock.now();
    const lastExit = { ...exit, at: this.iso(now) };
    const gone = { ready: false, pid: undefined, pidStart: undefined, lastExit };
    if (this.stopping) {
      this.enter('stopped', gone);
      this.stoppedWaiter?.();
      return;
    }
    const ranFor = this.state.startedAt ? now - Date.parse(this.state.startedAt) : 0;
    this.deps.log(
      `${this.def.name} ${exit.reason}${ranFor ? ` after ${(ranFor / 1000).toFixed(1)} s` : ''}`,
      failure ? 'warning' : 'info',
    );
    const next = afterExit(this.history, this.def, { failure, ranForMs: ranFor }, now);
    if (next.action === 'stop') return this.enter('stopped', gone);
    if (next.action === 'fail') return this.enter('failed', gone);
    this.enterBackoff(run, next.delayMs, next.history, next.crashLoopBegan, gone);
  }

  private enterBackoff(
    run: number,
    delay: number,
    history: ExitHistory,
    loopBegan: boolean,
    gone: Partial<ServiceState>,
  ): void {
    this.history = history;
    const crashLoop = history.crashLoop;
    if (loopBegan)
      this.deps.log(
        `${this.def.name}: crash loop: ${crashLoop!.exits} exits in ${LOOP_WINDOW_MS / 1000} s; retrying with a growing delay (now ${delay} ms, at most ${this.def.restartDelayMaxMs} ms)`,
        'warning',
      );
    const now = this.host.clock.now();
    this.enter('backoff', { ...gone, nextStartAt: this.iso(now + delay), crashLoop });
    this.cancelTimer = this.host.clock.after(delay, () => {
      this.cancelTimer = undefined;
      if (run !== this.runId || this.stopping) return;
      this.update({ restarts: this.state.restarts + 1 });
      void this.enterStart(run);
    });
  }

  /** No start from now on (a pending restart is cancelled); stop() then ends what runs. */
  hold(): void {
    this.stopping = true;
    this.clearTimer();
  }

  private async endDaemon(pid: number | undefined): Promise<void> {
    if (pid)
      await this.host.terminate(pid, await this.host.startTime(pid), this.def.stopSignal, this.def.stopTimeoutMs);
  }

  /** Stop it and keep it stopped. Resolves when the process is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clearTimer();
    const { pid, pidStart, followed } = this.state;
    if (this.child) {
      const exited = new Promise<void>((r) => (this.stoppedWaiter = r));
      this.enter('stopping');
      if (this.child.pid)
        await this.host.terminate(this.child.pid, pidStart, this.def.stopSignal, this.def.stopTimeoutMs);
      await exited;
      // a starter stopped after it forked: its daemon goes too. One that still exited 0 had
      // launched it, and it may not have named itself yet: it is waited for, as a start would.
      if (this.def.pidfile) {
        const launched = this.state.lastExit?.code === 0;
        await this.endDaemon(await this.findDaemon(this.runId, launched ? this.daemonWaitMs() : 0));
      }
      return;
    }
    const pending = this.daemonPending;
    if (pending) {
      this.enter('stopping');
      await this.endDaemon(await pending);
    }
    if (pid && followed === 'pidfile') {
      this.enter('stopping');
      await this.host.terminate(pid, pidStart, this.def.stopSignal, this.def.stopTimeoutMs);
    }
    this.runId++;
    this.enter('stopped', { ready: false, pid: undefined, pidStart: undefined });
  }
}
