// After a supervisor crash (SIGKILL, a bug): the copies it left running. A daemon followed through
// its pidfile is adopted (its output never went to the old supervisor); a copy that was the old
// supervisor's child is stopped, since its output pipes died with it, and started afresh. A copy
// the state file did not know about (the old supervisor died before writing it) is found by its
// command line among the namespace's processes and stopped. Either way: one copy of each service.
import type { ServiceConfig } from '../profile/types.js';
import type { SupervisorState } from '../state/supervisor.js';

/** The stop-timeout for a copy whose service is gone from the profile (its own is not known any more): the default. */
const REMOVED_STOP_TIMEOUT_MS = 10_000;

export interface Adopted {
  pid: number;
  pidStart: number | undefined;
  since: string | undefined;
  restarts: number;
}

export interface OrphanDeps {
  /** The namespace's id as /proc/PID/ns/net shows it. */
  nsId: string;
  startTime(pid: number): Promise<number | undefined>;
  netnsOf(pid: number): Promise<string | undefined>;
  cmdline(pid: number): Promise<string[] | undefined>;
  readPidFile(file: string): Promise<number | undefined>;
  /** The pids in the namespace. */
  nsPids(): Promise<number[]>;
  /** How: the service's stop-signal and stop-timeout (a service gone from the profile: the defaults). */
  stop(
    pid: number,
    start: number | undefined,
    def: Pick<ServiceConfig, 'name' | 'stopSignal' | 'stopTimeoutMs'>,
  ): Promise<void>;
  log(msg: string): void;
}

/** Adopt or stop what the previous supervisor left; returns the copies adopted, by service name. */
export async function reconcileOrphans(
  services: ServiceConfig[],
  previous: SupervisorState | undefined,
  d: OrphanDeps,
): Promise<Map<string, Adopted>> {
  const adopted = new Map<string, Adopted>();
  const handled = new Set<number>();
  const same = async (pid: number, start: number | undefined) => {
    const t = await d.startTime(pid);
    return t !== undefined && (start === undefined || t === start);
  };
  for (const def of services) {
    const old = previous?.services[def.name];
    const candidates: Array<{ pid: number; start: number | undefined; followed: string }> = [];
    if (old?.pid) candidates.push({ pid: old.pid, start: old.pidStart, followed: old.followed ?? 'child' });
    if (def.pidfile) {
      const p = await d.readPidFile(def.pidfile);
      if (p && p !== old?.pid) candidates.push({ pid: p, start: await d.startTime(p), followed: 'pidfile' });
    }
    for (const c of candidates) {
      if (handled.has(c.pid) || !(await same(c.pid, c.start)) || (await d.netnsOf(c.pid)) !== d.nsId) continue;
      handled.add(c.pid);
      if (c.followed === 'pidfile' && def.pidfile && !adopted.has(def.name)) {
        adopted.set(def.name, {
          pid: c.pid,
          pidStart: c.start ?? (await d.startTime(c.pid)),
          since: old?.startedAt,
          restarts: old?.restarts ?? 0,
        });
        d.log(`adopted ${def.name} (pid ${c.pid}), left running by the previous supervisor`);
      } else {
        d.log(`stopping ${def.name} (pid ${c.pid}), left running by the previous supervisor, to start it afresh`);
        await d.stop(c.pid, c.start, def);
      }
    }
  }
  // a service the profile no longer has (removed, or its section renamed, while no supervisor ran):
  // nothing would ever stop or show its copy
  for (const [name, old] of Object.entries(previous?.services ?? {})) {
    if (services.some((s) => s.name === name) || !old.pid || handled.has(old.pid)) continue;
    if (!(await same(old.pid, old.pidStart)) || (await d.netnsOf(old.pid)) !== d.nsId) continue;
    handled.add(old.pid);
    d.log(`stopping ${name} (pid ${old.pid}), left running by the previous supervisor: no longer in the profile`);
    await d.stop(old.pid, old.pidStart, { name, stopSignal: 'SIGTERM', stopTimeoutMs: REMOVED_STOP_TIMEOUT_MS });
  }
  for (const pid of await d.nsPids()) {
    if (handled.has(pid)) continue;
    const argv = await d.cmdline(pid);
    const def = services.find((s) => argv && argv.join('\0') === s.exec.join('\0'));
    if (!def || adopted.has(def.name)) continue;
    d.log(`stopping a leftover copy of ${def.name} (pid ${pid})`);
    await d.stop(pid, await d.startTime(pid), def);
  }
  return adopted;
}
