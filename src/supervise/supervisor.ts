// `oob run NAME`: bring the network up (the same code as `oob up`), run every [service.NAME] copy
// inside the namespace, keep them running, write the state file, talk to systemd, and on SIGTERM
// stop them all and bring the network down. SIGHUP re-reads the profile.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { killNsPids, nsPids } from '../engine/apply.js';
import { exitCodeOf, OobError } from '../errors.js';
import type { Io } from '../sys/io.js';
import { acquireLock, type Lock } from '../engine/lock.js';
import { createNotifier, SYSTEMD_PRIVATE_ENV, type Notifier } from './notify.js';
import { downProfile, upProfile } from '../engine/ops.js';
import { loadProfile } from '../profile/load.js';
import type { Profile, ServiceConfig } from '../profile/types.js';
import { cmdline, netnsId, netnsOf, readPidFile, sameProcess, startTime } from '../sys/proc.js';
import { Service, stopPid } from './service.js';
import { runtimePaths } from '../state/layout.js';
import { readState, writeState, type SupervisorState } from '../state/supervisor.js';

export interface SupervisorOptions {
  /** Where log lines go (stderr by default). */
  write?: (line: string) => void;
}

export async function runSupervisor(io: Io, name: string, opts: SupervisorOptions = {}): Promise<number> {
  const write = opts.write ?? ((l: string) => process.stderr.write(l + '\n'));
  const log = (m: string) => write(`oob[${name}]: ${m}`);
  let runLock: Lock;
  try {
    // the lock's socket also keeps the event loop alive when no service runs (all stopped by
    // their policy): the supervisor lives until it is told to stop
    runLock = await acquireLock(io.paths.runtimeDir, name, 0, { keepAlive: true, kind: 'supervisor' });
  } catch (e) {
    if (e instanceof OobError && e.code === 'busy') {
      const st = await readState(io.paths, name);
      throw new OobError('busy', `a supervisor for ${name} is already running${st ? ` (pid ${st.supervisor.pid})` : ''}: stop it first (oob stop ${name})`);
    }
    throw e;
  }
  const sup = new Supervisor(io, name, log, write, createNotifier(io.env, { warn: log }));
  try {
    return await sup.run();
  } finally {
    await runLock.release();
  }
}

class Supervisor {
  private profile!: Profile;
  private services = new Map<string, Service>();
  private state!: SupervisorState;
  private nsId = '';
  private childEnv: NodeJS.ProcessEnv;
  private lastStatus = '';
  private readySent = false;
  private writing: Promise<void> = Promise.resolve();
  private writeQueued = false;
  private shuttingDown = false;
  private reloading: Promise<void> = Promise.resolve();
  private watchdog: NodeJS.Timeout | undefined;
  private finish!: (code: number) => void;

  constructor(
    private io: Io,
    private name: string,
    private log: (m: string) => void,
    private write: (l: string) => void,
    private notify: Notifier,
  ) {
    this.childEnv = Object.fromEntries(Object.entries(io.env).filter(([k]) => !SYSTEMD_PRIVATE_ENV.includes(k) && !k.startsWith('OOB_TEST_')));
  }

  private send(fields: Record<string, string>) {
    if (this.notify.enabled) this.notify.send(fields).catch((e: Error) => this.log(`cannot notify systemd: ${e.message}`));
  }

  async run(): Promise<number> {
    const done = new Promise<number>((r) => (this.finish = r));
    const onTerm = (sig: string) => () => void this.shutdown(sig);
    process.on('SIGTERM', onTerm('SIGTERM'));
    process.on('SIGINT', onTerm('SIGINT'));
    process.on('SIGHUP', () => {
      this.reloading = this.reloading.then(() => this.reload());
    });

    this.profile = await loadProfile(this.io.paths.profileDir, this.name);
    const pidStart = await startTime(process.pid);
    this.state = {
      version: 1,
      profile: this.name,
      supervisor: { pid: process.pid, ...(pidStart !== undefined ? { pidStart } : {}), startedAt: new Date().toISOString() },
      network: 'starting',
      ready: false,
      services: {},
      updatedAt: '',
    };
    const previous = await readState(this.io.paths, this.name);
    this.send({ STATUS: `${this.name}: bringing the network up` });
    try {
      const up = await upProfile(this.io, this.profile, { force: this.io.env.OOB_FORCE === '1' });
      this.logForced(up.overridden);
      this.log(up.steps.length ? `network up: ${up.nicName} in namespace ${this.name}, ${up.addresses.join(', ')}` : `network already up: ${up.nicName}, ${up.addresses.join(', ')}`);
    } catch (e) {
      this.send({ STATUS: `${this.name}: network failed: ${(e as Error).message}` });
      throw e;
    }
    this.nsId = (await netnsId(path.join(this.io.paths.netnsRunDir, this.name))) ?? '';
    this.state.network = 'up';
    await this.persist();

    const adopted = await this.dealWithLeftovers(previous);
    for (const def of this.profile.services) {
      const svc = this.newService(def);
      const a = adopted.get(def.name);
      if (a) svc.adopt(a.pid, a.pidStart, a.since, a.restarts);
      else svc.start();
    }
    this.changed();
    if (this.notify.watchdogIntervalMs) this.watchdog = setInterval(() => this.send({ WATCHDOG: '1' }), this.notify.watchdogIntervalMs);
    if (!this.profile.services.length) this.log('the profile has no [service.NAME] sections: only the network is kept');
    return done;
  }

  private newService(def: ServiceConfig): Service {
    const svc = new Service(def, {
      ns: this.name,
      nsId: this.nsId,
      env: this.childEnv,
      log: this.log,
      output: (service, line) => this.write(`${this.name}/${service}: ${line}`),
      changed: () => this.changed(),
    });
    this.services.set(def.name, svc);
    return svc;
  }

  /**
   * Copies left running by a supervisor that died (SIGKILL, a crash): a daemon followed through its
   * pidfile is adopted (its output never went to us); a copy that was our child is stopped, since
   * its output pipes died with the old supervisor, and started afresh. Either way: one copy.
   */
  private async dealWithLeftovers(previous: SupervisorState | undefined) {
    const adopted = new Map<string, { pid: number; pidStart: number | undefined; since: string | undefined; restarts: number }>();
    const handled = new Set<number>();
    const inNs = async (pid: number) => (await netnsOf(pid)) === this.nsId;
    for (const def of this.profile.services) {
      const old = previous?.services[def.name];
      const candidates: Array<{ pid: number; start: number | undefined; followed: string }> = [];
      if (old?.pid) candidates.push({ pid: old.pid, start: old.pidStart, followed: old.followed ?? 'child' });
      if (def.pidfile) {
        const p = await readPidFile(def.pidfile);
        if (p && p !== old?.pid) candidates.push({ pid: p, start: await startTime(p), followed: 'pidfile' });
      }
      for (const c of candidates) {
        if (handled.has(c.pid) || !(await sameProcess(c.pid, c.start)) || !(await inNs(c.pid))) continue;
        handled.add(c.pid);
        if (c.followed === 'pidfile' && def.pidfile && !adopted.has(def.name)) {
          adopted.set(def.name, { pid: c.pid, pidStart: c.start ?? (await startTime(c.pid)), since: old?.startedAt, restarts: old?.restarts ?? 0 });
          this.log(`adopted ${def.name} (pid ${c.pid}), left running by the previous supervisor`);
        } else {
          this.log(`stopping ${def.name} (pid ${c.pid}), left running by the previous supervisor, to start it afresh`);
          await stopPid(c.pid, c.start, def.stopSignal, def.stopTimeoutMs);
        }
      }
    }
    // a copy the state file did not know about (the old supervisor died before writing it)
    for (const pid of await nsPids(this.io, this.name)) {
      if (handled.has(pid)) continue;
      const argv = await cmdline(pid);
      const def = this.profile.services.find((d) => argv && argv.join('\0') === d.exec.join('\0'));
      if (!def || adopted.has(def.name)) continue;
      this.log(`stopping a leftover copy of ${def.name} (pid ${pid})`);
      await stopPid(pid, await startTime(pid), def.stopSignal, def.stopTimeoutMs);
    }
    return adopted;
  }

  /** Something changed: write the state file (coalesced) and tell systemd. */
  private changed(): void {
    if (!this.state) return;
    this.state.services = Object.fromEntries([...this.services].map(([n, s]) => [n, s.state]));
    const total = this.services.size;
    const ready = [...this.services.values()].filter((s) => s.state.ready).length;
    this.state.ready = this.state.network === 'up' && ready === total;
    const looping = [...this.services.values()].filter((s) => s.state.crashLoop).map((s) => s.name);
    const status = `${this.name}: ${ready}/${total} services ready${looping.length ? `; crash loop: ${looping.join(', ')}` : ''}`;
    if (!this.shuttingDown && status !== this.lastStatus) {
      this.lastStatus = status;
      if (this.state.ready && !this.readySent) {
        this.readySent = true;
        this.log(`ready: ${status}`);
        this.send({ READY: '1', STATUS: status });
      } else this.send({ STATUS: status });
    }
    void this.persist();
  }

  private persist(): Promise<void> {
    if (this.writeQueued) return this.writing;
    this.writeQueued = true;
    this.writing = this.writing.then(async () => {
      this.writeQueued = false;
      if (this.state) await writeState(this.io.paths, this.state).catch((e: Error) => this.log(`cannot write the state file: ${e.message}`));
    });
    return this.writing;
  }

  /** OOB_FORCE=1 (the drop-in of a profile enabled with --force) overrides the lock-out guard, never silently. */
  private logForced(reasons: string[] | undefined): void {
    for (const r of reasons ?? []) this.log(`warning: OOB_FORCE=1 in the environment overrides the lock-out guard: ${r}`);
  }

  private async reload(): Promise<void> {
    if (this.shuttingDown) return;
    this.log('SIGHUP: re-reading the profile');
    let next: Profile;
    try {
      next = await loadProfile(this.io.paths.profileDir, this.name);
    } catch (e) {
      const details = e instanceof OobError ? [e.message, ...e.details] : [(e as Error).message];
      for (const d of details) this.log(`reload refused, the running set is kept: ${d}`);
      this.send({ STATUS: `${this.lastStatus} (last reload refused: see the log)` });
      return;
    }
    this.send({ RELOADING: '1' });
    try {
      this.logForced((await upProfile(this.io, next, { force: this.io.env.OOB_FORCE === '1' })).overridden);
    } catch (e) {
      this.log(`reload: the network change failed (${(e as Error).message}); the running set is kept`);
      this.send({ READY: '1', STATUS: this.lastStatus });
      return;
    }
    this.profile = next;
    const wanted = new Map(next.services.map((d) => [d.name, d]));
    const work: Promise<void>[] = [];
    for (const [n, svc] of this.services) {
      const def = wanted.get(n);
      if (!def) {
        this.log(`${n}: no longer in the profile: stopping it`);
        work.push(svc.stop().then(() => void this.services.delete(n)));
      } else if (JSON.stringify(def) !== JSON.stringify(svc.def)) {
        this.log(`${n}: its definition changed: restarting it`);
        work.push(svc.stop().then(() => this.newService(def).start()));
      }
    }
    for (const [n, def] of wanted) if (!this.services.has(n)) {
      this.log(`${n}: new in the profile: starting it`);
      this.newService(def).start();
    }
    await Promise.all(work);
    this.changed();
    this.send({ READY: '1', STATUS: this.lastStatus });
  }

  private async shutdown(signal: string): Promise<void> {
    if (this.shuttingDown) {
      this.log(`${signal} again: already stopping`);
      return;
    }
    this.shuttingDown = true;
    this.log(`${signal}: stopping ${this.services.size} service(s)`);
    this.send({ STOPPING: '1', STATUS: `${this.name}: stopping` });
    if (this.watchdog) clearInterval(this.watchdog);
    let code = 0;
    try {
      await this.reloading;
      if (this.state) this.state.network = 'stopping';
      await Promise.all([...this.services.values()].map((s) => s.stop()));
      await killNsPids(this.io, this.name).catch((e: Error) => this.log(`${e.message}`));
      if (this.profile && !this.profile.namespace.keepOnStop) {
        await downProfile(this.io, this.name);
        this.log('network down: the NIC is back in the host');
      } else this.log('keep-on-stop: the network stays up');
    } catch (e) {
      this.log(`stopping failed: ${(e as Error).message}`);
      code = exitCodeOf(e);
    }
    await this.writing;
    const rt = runtimePaths(this.io.paths, this.name);
    await fsp.rm(rt.stateFile, { force: true });
    await fsp.rmdir(rt.dir).catch(() => {});
    this.finish(code);
  }
}
