// `oob run NAME`: bring the network up (the same code as `oob up`), run every [service.NAME] copy
// inside the namespace, keep them running, write the state file, talk to systemd, and on SIGTERM
// stop them all and bring the network down. SIGHUP re-reads the profile.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { killNsPids, nsPids } from '../engine/apply.js';
import { ExitCode, exitCodeOf, OobError } from '../errors.js';
import type { Io } from '../sys/io.js';
import { acquireLock, type Lock } from '../engine/lock.js';
import { createNotifier, SYSTEMD_PRIVATE_ENV, type Notifier } from './notify.js';
import { downProfile, upProfile } from '../engine/ops.js';
import { loadProfile } from '../profile/load.js';
import type { Profile, ServiceConfig } from '../profile/types.js';
import { cmdline, netnsId, netnsOf, readPidFile, startTime } from '../sys/proc.js';
import { terminate } from '../sys/terminate.js';
import { Service } from './service.js';
import { realHost, type ServiceHost } from './host.js';
import { fdIsFile, logWriter, serviceLine, survivePipes } from './logsink.js';
import { reconcileOrphans } from './orphans.js';
import { planReload } from './reload.js';
import { runtimePaths, textfileDir, textfileName } from '../state/layout.js';
import { stderrIsJournal, withPriority, type Priority } from '../sys/journal.js';
import { Textfile, textfileInterval } from './textfile.js';
import { readState, writeState, type SupervisorState } from '../state/supervisor.js';
import { removeDhcpFiles } from '../state/lease.js';
import { addressWants, LeaseWatch } from './dhcp.js';
import { earlyPrestart, mountedNetnsId } from './prestart.js';

const NS_WATCH_MS = 1000;
/** The metrics file's first write waits for the start-up's services this long at most (ready: at once). */
const METRICS_HOLD_MS = 2000;
/** A STATUS= of the start-up's progress goes after this delay, unless READY=1 (with its STATUS=) came first. */
const PROGRESS_DELAY_MS = 250;

export interface SupervisorOptions {
  /** Where log lines go (stderr by default, with journald priorities when stderr is the journal). */
  write?: (line: string) => void;
  /** The profile's status as Prometheus text, for node_exporter's textfile collector (textfile.ts); none: no file. */
  metrics?: () => Promise<string>;
}

type Log = (m: string, p?: Priority) => void;

export async function runSupervisor(io: Io, name: string, opts: SupervisorOptions = {}): Promise<number> {
  survivePipes();
  const logFile = runtimePaths(io.paths, name).logFile;
  // every line carries its priority when stderr is the journal (sys/journal.ts)
  const journal = !opts.write && stderrIsJournal();
  const sink =
    opts.write ?? logWriter({ journal, ...(fdIsFile(2, logFile) ? { rotate: { fd: 2, file: logFile } } : {}) });
  const log: Log = (m, p = 'info') => sink(withPriority(journal, p, `oob[${name}]: ${m}`));
  const output = (service: string, line: string) => sink(serviceLine(journal, `${name}/${service}: `, line));
  const dir = opts.metrics ? textfileDir(io.env) : undefined;
  const textfile =
    opts.metrics && dir
      ? new Textfile({
          dir,
          file: textfileName(dir, name),
          intervalMs: textfileInterval(io.env, (m) => log(m, 'warning')),
          render: opts.metrics,
          log,
        })
      : undefined;
  // SIGTERM from here on ends in a clean stop, even while the lock is being taken
  const sup = new Supervisor(
    io,
    name,
    log,
    { output, textfile },
    createNotifier(io.env, { warn: (m) => log(m, 'warning') }),
  );
  let runLock: Lock;
  try {
    // the lock's socket also keeps the event loop alive when no service runs (all stopped by
    // their policy): the supervisor lives until it is told to stop
    runLock = await acquireLock(io.paths.runtimeDir, name, 0, { keepAlive: true, kind: 'supervisor' });
  } catch (e) {
    if (e instanceof OobError && e.code === 'busy') {
      const st = await readState(io.paths, name);
      throw new OobError(
        'busy',
        `a supervisor for ${name} is already running${st ? ` (pid ${st.supervisor.pid})` : ''}: stop it first (oob stop ${name})`,
      );
    }
    throw e;
  }
  try {
    return await sup.run();
  } finally {
    await textfile?.stop(); // also when start-up failed
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
  private progressTimer: NodeJS.Timeout | undefined;
  private nsWatch: NodeJS.Timeout | undefined;
  private finish!: (code: number) => void;
  private done: Promise<number>;
  /** The start-up in flight; undefined until run() (a signal before that is kept in stopRequested). */
  private startup: Promise<void> | undefined;
  private stopRequested: string | undefined;
  private host: ServiceHost = realHost();
  /** address = dhcp / dhcp6 / auto: ready only once the leases and SLAAC address are in place. */
  private lease: LeaseWatch | undefined;

  constructor(
    private io: Io,
    private name: string,
    private log: Log,
    private out: { output: (service: string, line: string) => void; textfile?: Textfile | undefined },
    private notify: Notifier,
  ) {
    this.childEnv = Object.fromEntries(Object.entries(io.env).filter(([k]) => !SYSTEMD_PRIVATE_ENV.includes(k)));
    this.done = new Promise<number>((r) => (this.finish = r));
    const onTerm = (sig: string) => () => {
      if (this.startup) void this.shutdown(sig);
      else this.stopRequested ??= sig;
    };
    process.on('SIGTERM', onTerm('SIGTERM'));
    process.on('SIGINT', onTerm('SIGINT'));
    process.on('SIGHUP', () => {
      // a reload waits for the start-up: it must not start a second copy of what start-up starts
      if (this.startup)
        this.reloading = this.reloading
          .then(() => this.startup)
          .then(
            () => this.reload(),
            () => {},
          );
    });
  }

  private send(fields: Record<string, string>) {
    if (fields.STATUS !== undefined) clearTimeout(this.progressTimer); // a newer status
    if (this.notify.enabled)
      this.notify.send(fields).catch((e: Error) => this.log(`cannot notify systemd: ${e.message}`, 'warning'));
  }

  async run(): Promise<number> {
    this.startup = this.startUp().catch((e) => {
      // a start-up that fails because we are stopping (the rollback undid it) is a clean stop
      if (!this.shuttingDown) throw e;
      this.log(`start-up ended by the stop: ${(e as Error).message}`);
    });
    if (this.stopRequested) void this.shutdown(this.stopRequested);
    await this.startup;
    return this.done;
  }

  /** Load, bring the network up, reconcile, start the services: each step first asks whether a stop began. */
  private async startUp(): Promise<void> {
    const stop = () => this.shuttingDown;
    const profile = await loadProfile(this.io.paths.profileDir, this.name);
    if (stop()) return;
    this.profile = profile;
    const pidStart = await startTime(process.pid);
    this.state = {
      version: 1,
      profile: this.name,
      supervisor: {
        pid: process.pid,
        ...(pidStart !== undefined ? { pidStart } : {}),
        startedAt: new Date().toISOString(),
      },
      network: 'starting',
      ready: false,
      services: {},
      updatedAt: '',
    };
    const previous = await readState(this.io.paths, this.name);
    if (stop()) return;
    this.send({ STATUS: `${this.name}: bringing the network up` });
    // no namespace before up: the one up makes is new, and no earlier copy can be in it
    const freshNamespace = (await netnsId(this.nsPath())) === undefined;
    // pre-start commands that need only the namespace run while up brings its network (prestart.ts)
    let upEnded = false;
    const early = new Map(
      this.profile.services
        // only in a namespace up creates: one that is there already may not be oob's (up refuses it)
        .filter((s) => freshNamespace && s.prestartBeforeUp && s.prestart.length)
        .map((s) => [
          s.name,
          earlyPrestart(s, {
            host: this.host,
            ns: this.name,
            env: this.childEnv,
            nsId: () => mountedNetnsId(this.nsPath()),
            upEnded: () => upEnded,
          }),
        ]),
    );
    try {
      const up = await upProfile(this.io, this.profile, { force: this.io.env.OOB_FORCE === '1' }).finally(
        () => (upEnded = true),
      );
      this.logForced(up.overridden);
      this.log(
        up.steps.length
          ? `network up: ${up.nicName ?? 'no NIC'} in namespace ${this.name}, ${up.addresses.join(', ')}`
          : `network already up: ${up.nicName ?? 'no NIC'}, ${up.addresses.join(', ')}`,
      );
    } catch (e) {
      this.send({ STATUS: `${this.name}: network failed: ${(e as Error).message}` });
      await Promise.all(early.values()); // none of their commands outlives the supervisor
      throw e;
    }
    // a stop from here on returns after the early commands ended
    const ended = () => Promise.all(early.values()).then(() => undefined);
    if (stop()) return ended();
    this.nsId = (await netnsId(this.nsPath())) ?? '';
    this.state.network = 'up';
    await this.persist();
    if (stop()) return ended();

    const adopted = await reconcileOrphans(this.profile.services, previous, {
      nsId: this.nsId,
      startTime,
      netnsOf,
      cmdline,
      readPidFile,
      nsPids: () => (freshNamespace ? Promise.resolve([]) : nsPids(this.io, this.name)),
      stop: async (pid, start, def) =>
        void (await terminate([{ pid, start }], {
          signal: def.stopSignal as NodeJS.Signals,
          graceMs: def.stopTimeoutMs,
        })),
      log: this.log,
    });
    if (stop()) return ended();
    // the metrics file (a reading of the whole system) waits until the services are ready
    this.out.textfile?.holdUntil(Date.now() + METRICS_HOLD_MS);
    for (const def of this.profile.services) {
      const svc = this.newService(def);
      const a = adopted.get(def.name);
      const checked = early.get(def.name)?.then((id) => id !== undefined && id === this.nsId);
      if (a) svc.adopt(a.pid, a.pidStart, a.since, a.restarts);
      else svc.start(checked);
    }
    const wants = this.profile.iface
      ? addressWants(this.io.paths.runtimeDir, this.name, this.profile.iface, this.io.run)
      : [];
    if (wants.length) {
      this.lease = new LeaseWatch(wants, () => this.changed());
      this.lease.start();
    }
    this.changed();
    if (this.notify.watchdogIntervalMs)
      this.watchdog = setInterval(() => this.send({ WATCHDOG: '1' }), this.notify.watchdogIntervalMs);
    // `oob down` or `ip netns del` under us: noticed here (and before each start), not retried forever
    this.nsWatch = setInterval(() => void this.namespaceAlive().then((ok) => ok || this.namespaceGone()), NS_WATCH_MS);
    if (!this.profile.services.length) this.log('the profile has no [service.NAME] sections: only the network is kept');
  }

  private nsPath(): string {
    return path.join(this.io.paths.netnsRunDir, this.name);
  }

  private async namespaceAlive(): Promise<boolean> {
    return (await netnsId(this.nsPath())) === this.nsId;
  }

  private namespaceGone(): void {
    if (this.shuttingDown) return;
    this.log(
      `the namespace ${this.name} was deleted while the supervisor ran (oob down, or ip netns del): stopping; to bring it back: oob start ${this.name} (or systemctl restart the profile's unit)`,
      'error',
    );
    void this.shutdown('namespace gone', ExitCode.precondition);
  }

  private newService(def: ServiceConfig): Service {
    const svc = new Service(def, {
      ns: this.name,
      nsId: this.nsId,
      env: this.childEnv,
      host: this.host,
      namespaceAlive: () => this.namespaceAlive(),
      namespaceGone: () => this.namespaceGone(),
      log: this.log,
      output: this.out.output,
      changed: () => this.changed(),
    });
    this.services.set(def.name, svc);
    return svc;
  }

  /**
   * A status of the start-up's progress (services starting): sent if the start-up takes a while.
   * A fast start-up sends READY=1 with its status instead, and spares the process of a message
   * (systemd-notify) while its services start.
   */
  private progress(status: string): void {
    if (!this.notify.enabled) return;
    clearTimeout(this.progressTimer);
    this.progressTimer = setTimeout(() => this.send({ STATUS: status }), PROGRESS_DELAY_MS);
    this.progressTimer.unref();
  }

  /** Something changed: write the state file (coalesced) and tell systemd. */
  private changed(): void {
    if (!this.state) return;
    this.state.services = Object.fromEntries([...this.services].map(([n, s]) => [n, s.state]));
    const total = this.services.size;
    const ready = [...this.services.values()].filter((s) => s.state.ready).length;
    const noLease = !!this.lease && !this.lease.ready;
    this.state.ready = this.state.network === 'up' && ready === total && !noLease;
    const looping = [...this.services.values()].filter((s) => s.state.crashLoop).map((s) => s.name);
    const status = `${this.name}: ${ready}/${total} services ready${looping.length ? `; crash loop: ${looping.join(', ')}` : ''}${noLease ? `; no ${this.lease!.missing.join(', no ')} yet${this.lease!.timedOut ? ': not ready, still trying' : ''}` : ''}`;
    if (!this.shuttingDown && status !== this.lastStatus) {
      this.lastStatus = status;
      if ((this.state.ready || (noLease && this.lease!.timedOut)) && !this.readySent) {
        this.readySent = true;
        this.log(`ready: ${status}`);
        this.send({ READY: '1', STATUS: status });
        this.out.textfile?.release();
      } else if (this.readySent) this.send({ STATUS: status });
      else this.progress(status);
    }
    void this.persist().then(() => this.out.textfile?.changed());
  }

  private persist(): Promise<void> {
    if (this.writeQueued) return this.writing;
    this.writeQueued = true;
    this.writing = this.writing.then(async () => {
      this.writeQueued = false;
      if (this.state)
        await writeState(this.io.paths, this.state).catch((e: Error) =>
          this.log(`cannot write the state file: ${e.message}`, 'error'),
        );
    });
    return this.writing;
  }

  /** OOB_FORCE=1 (the drop-in of a profile enabled with --force) overrides the lock-out guard, never silently. */
  private logForced(reasons: string[] | undefined): void {
    for (const r of reasons ?? [])
      this.log(`warning: OOB_FORCE=1 in the environment overrides the lock-out guard: ${r}`, 'warning');
  }

  private async reload(): Promise<void> {
    if (this.shuttingDown) return;
    this.log('SIGHUP: re-reading the profile');
    let next: Profile;
    try {
      next = await loadProfile(this.io.paths.profileDir, this.name);
    } catch (e) {
      const details = e instanceof OobError ? [e.message, ...e.details] : [(e as Error).message];
      for (const d of details) this.log(`reload refused, the running set is kept: ${d}`, 'error');
      this.send({ STATUS: `${this.lastStatus} (last reload refused: see the log)` });
      return;
    }
    this.send({ RELOADING: '1' });
    try {
      this.logForced((await upProfile(this.io, next, { force: this.io.env.OOB_FORCE === '1' })).overridden);
    } catch (e) {
      this.log(`reload: the network change failed (${(e as Error).message}); the running set is kept`, 'error');
      this.send({ READY: '1', STATUS: this.lastStatus });
      return;
    }
    if (this.shuttingDown) return;
    this.profile = next;
    const plan = planReload([...this.services.values()], next.services);
    const work: Promise<void>[] = [];
    for (const n of plan.stop) {
      this.log(`${n}: no longer in the profile: stopping it`);
      work.push(
        this.services
          .get(n)!
          .stop()
          .then(() => void this.services.delete(n)),
      );
    }
    for (const def of plan.restart) {
      this.log(`${def.name}: its definition changed: restarting it`);
      work.push(
        this.services
          .get(def.name)!
          .stop()
          .then(() => void (this.shuttingDown || this.newService(def).start())),
      );
    }
    for (const n of plan.retry) {
      this.log(`${n}: its pre-start check failed before: trying again`);
      this.services.get(n)!.start();
    }
    for (const def of plan.start) {
      this.log(`${def.name}: new in the profile: starting it`);
      this.newService(def).start();
    }
    await Promise.all(work);
    this.changed();
    this.send({ READY: '1', STATUS: this.lastStatus });
  }

  private async shutdown(signal: string, exitCode = 0): Promise<void> {
    if (this.shuttingDown) {
      this.log(`${signal} again: already stopping`);
      return;
    }
    this.shuttingDown = true;
    // a stopping plane has no metrics: the file goes first, and no write follows
    const metricsGone = this.out.textfile?.stop();
    // nothing starts from here on: no restart after its back-off, no start of a reload
    for (const s of this.services.values()) s.hold();
    this.send({ STOPPING: '1', STATUS: `${this.name}: stopping` });
    clearTimeout(this.progressTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.nsWatch) clearInterval(this.nsWatch);
    this.lease?.stop();
    let code = exitCode;
    try {
      // a start-up in flight first reaches its next step (it starts nothing after this point)
      await this.startup;
      this.log(`${signal}: stopping ${this.services.size} service(s)`);
      await this.reloading;
      if (this.state) this.state.network = 'stopping';
      await Promise.all([...this.services.values()].map((s) => s.stop()));
      await removeDhcpFiles(this.io.paths.runtimeDir, this.name);
      await killNsPids(this.io, this.name).catch((e: Error) => this.log(`${e.message}`, 'error'));
      if (this.profile && !this.profile.namespace.keepOnStop) {
        await downProfile(this.io, this.name);
        this.log('network down: the NIC is back in the host');
      } else this.log('keep-on-stop: the network stays up');
    } catch (e) {
      this.log(`stopping failed: ${(e as Error).message}`, 'error');
      // a stop with a cause of its own (the namespace vanished) keeps that cause as its exit code;
      // what down could not finish is in the line above and in the kept record
      if (!exitCode) code = exitCodeOf(e);
    }
    await this.writing;
    await metricsGone;
    const rt = runtimePaths(this.io.paths, this.name);
    if (this.state) await fsp.rm(rt.stateFile, { force: true });
    await fsp.rmdir(rt.dir).catch(() => {});
    this.finish(code);
  }
}
