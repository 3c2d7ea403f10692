// The one way oob ends processes: a signal (SIGTERM unless told otherwise), a grace period, then
// SIGKILL for what is left, and a wait until they are really gone. A process is named by its pid
// and, where known, its /proc start time, so a pid reused by another process is never signalled.
import { sameProcess } from './proc.js';
import { until } from './until.js';

export interface Target {
  pid: number;
  /** /proc start time (field 22 of /proc/PID/stat): without it, any process with this pid counts. */
  start?: number | undefined;
}

export interface TerminateOptions {
  signal?: NodeJS.Signals;
  /** How long the first signal has before SIGKILL. */
  graceMs: number;
  /** How long to wait for the SIGKILLed to vanish (default 2 s). */
  killWaitMs?: number;
  intervalMs?: number;
  /** Told the pids that the first signal did not end in time, just before they get SIGKILL. */
  onKill?: (pids: number[]) => void;
}

const send = (t: Target, sig: NodeJS.Signals) => {
  try {
    process.kill(t.pid, sig);
  } catch {
    /* already gone */
  }
};

async function alive(ts: Target[]): Promise<Target[]> {
  const out: Target[] = [];
  for (const t of ts) if (await sameProcess(t.pid, t.start)) out.push(t);
  return out;
}

/**
 * Signal the targets, wait up to graceMs, SIGKILL those left, wait until they are gone.
 * Returns the pids still alive at the end (empty unless a process cannot be killed, e.g. stuck in D state).
 */
export async function terminate(targets: Array<number | Target>, o: TerminateOptions): Promise<number[]> {
  const ts = targets
    .map((t) => (typeof t === 'number' ? { pid: t } : t))
    .filter((t) => t.pid > 1 && t.pid !== process.pid);
  let left = await alive(ts);
  if (!left.length) return [];
  for (const t of left) send(t, o.signal ?? 'SIGTERM');
  const interval = o.intervalMs ?? 20;
  const gone = async () => ((left = await alive(left)).length ? undefined : true);
  if (o.graceMs > 0 && (await until(gone, { intervalMs: interval, timeoutMs: o.graceMs }))) return [];
  left = await alive(left);
  if (!left.length) return [];
  o.onKill?.(left.map((t) => t.pid));
  for (const t of left) send(t, 'SIGKILL');
  await until(gone, { intervalMs: interval, timeoutMs: o.killWaitMs ?? 2000 });
  return left.map((t) => t.pid);
}
