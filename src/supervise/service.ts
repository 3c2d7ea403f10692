// One service copy inside the namespace: start it through `ip netns exec` (so /etc/netns/NAME
// applies; ip execs the command, so the child's pid is the service's), wait until it is ready, follow it (our child: its exit is an event; a daemon that
// forks: the pid in its pidfile, checked every 500 ms, as Node has no pidfd), restart it by its
// policy with a growing back-off, and stop it (stop-signal, SIGKILL after stop-timeout).
import { promises as fsp } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { ServiceConfig } from '../profile/types.js';
import { firstLine, spawnRunner, startLongRunning, type LongRunning } from '../sys/run.js';
import { listeningPortsOf, netnsOf, readPidFile, resolveUser, sameProcess, startTime } from '../sys/proc.js';
import type { ServiceState } from '../state/supervisor.js';

export interface ServiceDeps {
  ns: string;
  /** The namespace's id as /proc/PID/ns/net shows it: a pid is only trusted once it is in there. */
  nsId: string;
  env: NodeJS.ProcessEnv;
  log(msg: string): void;
  output(service: string, line: string): void;
  changed(): void;
}

export const FOLLOW_INTERVAL_MS = 500;
const READY_POLL_MS = 20;
const STABLE_MS = 10_000;
const LOOP_WINDOW_MS = 60_000;
const LOOP_EXITS = 5;

type Sub = LongRunning;

export class Service {
  state: ServiceState = { phase: 'stopped', ready: false, restarts: 0 };
  private sub: Sub | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private failures = 0;
  private exits: number[] = [];
  private runId = 0;
  private stopped: (() => void) | undefined;

  constructor(
    public def: ServiceConfig,
    private deps: ServiceDeps,
  ) {}

  get name() {
    return this.def.name;
  }

  private set(patch: Partial<ServiceState>) {
    this.state = { ...this.state, ...patch };
    this.deps.changed();
  }

  /** Start the service (first start, or after a restart delay). */
  start(): void {
    this.stopping = false;
    void this.launch();
  }

  private async launch(): Promise<void> {
    const run = ++this.runId;
    this.timer = undefined;
    const d = this.def;
    let prefix: string[] = [];
    if (d.user !== undefined || d.group !== undefined) {
      const ids = await resolveUser(d.user ?? 'root', d.group);
      if (typeof ids === 'string') return this.failed(run, ids);
      prefix = ['setpriv', `--reuid=${ids.uid}`, `--regid=${ids.gid}`, ...(d.user !== undefined ? ['--init-groups'] : ['--clear-groups']), '--'];
    }
    if (d.pidfile) await fsp.rm(d.pidfile, { force: true }); // a stale pidfile would name someone else
    if (this.stopping || run !== this.runId) return;
    // pre-start commands (a preset's checks, a copied unit's ExecStartPre): one failing is a
    // configuration error, which no restart can fix: failed, until the profile is reloaded
    for (const cmd of d.prestart ?? []) {
      const r = await spawnRunner(['ip', 'netns', 'exec', this.deps.ns, ...cmd], { allowFail: true, env: this.deps.env }).catch((e: Error) => ({ code: 127, stdout: '', stderr: e.message }));
      if (this.stopping || run !== this.runId) return;
      if (r.code !== 0) {
        const error = `pre-start check failed: ${cmd.join(' ')}: ${firstLine(r.stderr) || firstLine(r.stdout) || `exit ${r.code}`}`;
        this.deps.log(`${d.name}: ${error}; not restarted (fix it, then: systemctl reload, or kill -HUP the supervisor)`);
        this.set({ phase: 'failed', ready: false, pid: undefined, pidStart: undefined, error, lastExit: { code: r.code, signal: null, reason: error, at: new Date().toISOString() } });
        return;
      }
    }
    const sub = startLongRunning(['ip', 'netns', 'exec', this.deps.ns, ...prefix, ...d.exec], { ...this.deps.env, ...d.env });
    const { child } = sub;
    this.sub = sub;
    for (const stream of [child.stdout, child.stderr] as Readable[]) createInterface({ input: stream }).on('line', (l) => this.deps.output(d.name, l));
    const pid = child.pid;
    const now = new Date().toISOString();
    this.set({ phase: 'starting', pid, pidStart: pid ? await startTime(pid) : undefined, followed: 'child', startedAt: now, ready: d.ready.kind === 'none', readyAt: undefined, error: undefined, nextStartAt: undefined });
    if (d.ready.kind === 'none') this.set({ phase: 'running', readyAt: now });
    else if (d.ready.kind === 'tcp' && pid) void this.waitListening(run, pid, d.ready.port);
    this.deps.log(`started ${d.name} (pid ${pid})`);
    const r = await sub.exit;
    if (run !== this.runId) return;
    this.sub = undefined;
    if (d.pidfile && r.code === 0 && !this.stopping) return this.followPidFile(run);
    const { code, signal } = r;
    const reason = this.stopping ? 'stopped by oob' : r.error ? `cannot start: ${r.error.message}` : signal ? `killed by ${signal}` : `exited with status ${code}`;
    this.exited(run, { code, signal, reason }, !!signal || code !== 0);
  }

  /** A daemon that forked: follow the pid its pidfile names. */
  private async followPidFile(run: number): Promise<void> {
    const file = this.def.pidfile!;
    const deadline = Date.now() + Math.max(10_000, this.def.stopTimeoutMs);
    let pid: number | undefined;
    while (Date.now() < deadline && run === this.runId && !this.stopping) {
      pid = await readPidFile(file);
      if (pid && (await netnsOf(pid)) === this.deps.nsId) break;
      pid = undefined;
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
    if (run !== this.runId || this.stopping) return;
    if (!pid) return this.exited(run, { code: 0, signal: null, reason: `its starter exited but ${file} never named a live process in the namespace` }, true);
    this.follow(run, pid, await startTime(pid));
  }

  /** Follow a process that is not our child (a forked daemon, or one adopted after a crash). */
  follow(run: number, pid: number, pidStart: number | undefined): void {
    const tcp = this.def.ready.kind === 'tcp';
    this.set({ phase: tcp ? 'starting' : 'running', pid, pidStart, followed: 'pidfile', ready: !tcp, ...(tcp ? {} : { readyAt: new Date().toISOString() }), startedAt: this.state.startedAt ?? new Date().toISOString() });
    if (this.def.ready.kind === 'tcp') void this.waitListening(run, pid, this.def.ready.port);
    const check = async () => {
      if (run !== this.runId) return;
      if (await sameProcess(pid, pidStart)) {
        this.timer = setTimeout(check, FOLLOW_INTERVAL_MS);
        return;
      }
      this.exited(run, { code: null, signal: null, reason: this.stopping ? 'stopped by oob' : `pid ${pid} (from ${this.def.pidfile ?? 'the previous supervisor'}) is gone` }, true);
    };
    this.timer = setTimeout(check, FOLLOW_INTERVAL_MS);
  }

  /** Take over a copy left running by a previous supervisor. */
  adopt(pid: number, pidStart: number | undefined, since: string | undefined, restarts: number): void {
    const run = ++this.runId;
    this.stopping = false;
    this.state = { ...this.state, restarts, ...(since ? { startedAt: since } : {}) };
    this.follow(run, pid, pidStart);
  }

  private async waitListening(run: number, pid: number, port: number): Promise<void> {
    while (run === this.runId && !this.stopping) {
      // only trust /proc/PID/net once the process is inside the namespace
      if ((await netnsOf(pid)) === this.deps.nsId) {
        const ports = await listeningPortsOf(pid);
        if (ports === undefined) return; // gone: the exit path takes over
        if (ports.includes(port)) {
          if (run === this.runId) this.set({ phase: 'running', ready: true, readyAt: new Date().toISOString() });
          return;
        }
      } else if (!(await startTime(pid))) return;
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  }

  private failed(run: number, error: string): void {
    this.deps.log(`${this.def.name}: cannot start: ${error}`);
    this.set({ error });
    this.exited(run, { code: null, signal: null, reason: `cannot start: ${error}` }, true);
  }

  private exited(run: number, exit: { code: number | null; signal: string | null; reason: string }, failure: boolean): void {
    if (run !== this.runId) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    const lastExit = { ...exit, at: new Date(now).toISOString() };
    if (this.stopping) {
      this.set({ phase: 'stopped', ready: false, pid: undefined, pidStart: undefined, lastExit });
      this.stopped?.();
      return;
    }
    const ranFor = this.state.startedAt ? now - Date.parse(this.state.startedAt) : 0;
    this.deps.log(`${this.def.name} ${exit.reason}${ranFor ? ` after ${(ranFor / 1000).toFixed(1)} s` : ''}`);
    const policy = this.def.restart;
    if (policy === 'no' || (policy === 'on-failure' && !failure)) {
      this.set({ phase: failure ? 'failed' : 'stopped', ready: false, pid: undefined, pidStart: undefined, lastExit });
      return;
    }
    this.failures = ranFor >= STABLE_MS ? 1 : this.failures + 1;
    this.exits = [...this.exits.filter((t) => now - t < LOOP_WINDOW_MS), now];
    const delay = Math.min(this.def.restartDelayMs * 2 ** (this.failures - 1), this.def.restartDelayMaxMs);
    let crashLoop = this.state.crashLoop;
    if (this.exits.length >= LOOP_EXITS) {
      if (!crashLoop) this.deps.log(`${this.def.name}: crash loop: ${this.exits.length} exits in ${LOOP_WINDOW_MS / 1000} s; retrying with a growing delay (now ${delay} ms, at most ${this.def.restartDelayMaxMs} ms)`);
      crashLoop = { exits: this.exits.length, windowSec: LOOP_WINDOW_MS / 1000, since: crashLoop?.since ?? new Date(now).toISOString() };
    } else if (ranFor >= STABLE_MS) crashLoop = undefined;
    this.set({ phase: 'backoff', ready: false, pid: undefined, pidStart: undefined, lastExit, nextStartAt: new Date(now + delay).toISOString(), ...(crashLoop ? { crashLoop } : { crashLoop: undefined }) });
    this.timer = setTimeout(() => {
      this.set({ restarts: this.state.restarts + 1 });
      void this.launch();
    }, delay);
  }

  /** Stop it and keep it stopped. Resolves when the process is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const { pid, followed } = this.state;
    if (this.sub) {
      const done = new Promise<void>((r) => (this.stopped = r));
      this.set({ phase: 'stopping' });
      const { child } = this.sub;
      child.kill(this.def.stopSignal as NodeJS.Signals);
      const force = setTimeout(() => child.kill('SIGKILL'), this.def.stopTimeoutMs);
      await done;
      clearTimeout(force);
      return;
    }
    if (pid && followed === 'pidfile') {
      this.set({ phase: 'stopping' });
      await stopPid(pid, this.state.pidStart, this.def.stopSignal, this.def.stopTimeoutMs);
    }
    this.runId++;
    this.set({ phase: 'stopped', ready: false, pid: undefined, pidStart: undefined });
  }
}

/** Signal a process that is not our child and wait until it is gone; SIGKILL after the timeout. */
export async function stopPid(pid: number, pidStart: number | undefined, signal: string, timeoutMs: number): Promise<void> {
  if (!(await sameProcess(pid, pidStart))) return;
  try { process.kill(pid, signal as NodeJS.Signals); } catch { return; }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await sameProcess(pid, pidStart))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  for (let i = 0; i < 100 && (await sameProcess(pid, pidStart)); i++) await new Promise((r) => setTimeout(r, 20));
}
