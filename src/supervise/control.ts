// `oob start` / `oob stop`: the supervisor in the background, without systemd.
import { openSync, closeSync, promises as fsp, mkdirSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { ExitCode, OobError, type ExitCodeName } from '../errors.js';
import type { Io } from '../sys/io.js';
import { SYSTEMD_PRIVATE_ENV } from './notify.js';
import { startDetached } from '../sys/run.js';
import { selfCli } from '../sys/self.js';
import { allPids, cmdline, cwdOf, environ, sameProcess, startTime } from '../sys/proc.js';
import { terminate, type Target } from '../sys/terminate.js';
import { until } from '../sys/until.js';
import { resolvePaths, runtimePaths } from '../state/layout.js';
import { readState } from '../state/supervisor.js';
import { loadProfile } from '../profile/load.js';

// the supervisor is this same oob: tsc's cli.js, or the bundle itself
const CLI = selfCli();

/** The running supervisor of a profile, as its state file names it. */
async function running(io: Io, name: string) {
  const st = await readState(io.paths, name);
  if (st && (await sameProcess(st.supervisor.pid, st.supervisor.pidStart))) return st;
  return undefined;
}

/** The index of the first word at or after i that is not an option (--profile-dir takes the next word). */
function positional(argv: string[], i: number): number {
  while (i < argv.length && argv[i]!.startsWith('-')) i += argv[i] === '--profile-dir' ? 2 : 1;
  return i;
}

/** Is this command line (node, script, ...) `run NAME`, global options anywhere? Not `exec X -- run NAME`. */
export function runsProfile(argv: string[], name: string): boolean {
  const verb = positional(argv, 2);
  return argv[verb] === 'run' && argv[positional(argv, verb + 1)] === name;
}

/** Is the script this process runs (argv[1], maybe relative to its working directory) this same oob? */
function sameCli(argv: string[], cwd: string): boolean {
  try {
    return realpathSync(path.resolve(cwd, argv[1] ?? '')) === realpathSync(CLI);
  } catch {
    return false;
  }
}

/**
 * The supervisor of a profile without its state file (deleted, or not written yet): a process of
 * this oob running `run NAME` whose runtime directory is ours: the same directory (device and
 * inode) as that process sees it, so a container's /run/oob is not ours. The runtime directory is
 * what the state file and the run lock belong to, so at most one process matches.
 */
async function findInProc(io: Io, name: string): Promise<Target | undefined> {
  const ours = await fsp.stat(io.paths.runtimeDir).catch(() => undefined);
  if (!ours) return undefined;
  const pids = (await allPids()).filter((p) => p !== process.pid);
  const argvs = await Promise.all(pids.map((p) => cmdline(p)));
  for (const [i, pid] of pids.entries()) {
    const argv = argvs[i];
    if (!argv || !runsProfile(argv, name)) continue;
    const [cwd, env, start] = await Promise.all([cwdOf(pid), environ(pid), startTime(pid)]);
    if (!cwd || !env || start === undefined || !sameCli(argv, cwd)) continue;
    if (env.OOB_RUNTIME_DIR) env.OOB_RUNTIME_DIR = path.resolve(cwd, env.OOB_RUNTIME_DIR);
    const theirs = await fsp.stat(`/proc/${pid}/root${resolvePaths({}, env).runtimeDir}`).catch(() => undefined);
    if (theirs && theirs.dev === ours.dev && theirs.ino === ours.ino) return { pid, start };
  }
  return undefined;
}

/** The supervisor of a profile: the one its state file names, else the one /proc shows. */
async function findSupervisor(io: Io, name: string): Promise<Target | undefined> {
  const st = await running(io, name);
  return st ? { pid: st.supervisor.pid, start: st.supervisor.pidStart } : findInProc(io, name);
}

async function tail(file: string, n = 5): Promise<string[]> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-n);
}

export async function startSupervisor(
  io: Io,
  name: string,
  opts: { timeoutMs: number; profileDirArg?: string | undefined },
) {
  const cur = await findSupervisor(io, name);
  if (cur) return { already: true, pid: cur.pid, status: '', log: runtimePaths(io.paths, name).logFile };
  // a missing or bad profile is said here, in one line, before anything is started or written
  await loadProfile(io.paths.profileDir, name);
  const log = runtimePaths(io.paths, name).logFile;
  mkdirSync(path.dirname(log), { recursive: true, mode: 0o755 });
  const fd = openSync(log, 'a', 0o640);
  const env = Object.fromEntries(Object.entries(io.env).filter(([k]) => !SYSTEMD_PRIVATE_ENV.includes(k)));
  const args = [CLI, ...(opts.profileDirArg ? ['--profile-dir', opts.profileDirArg] : []), 'run', name];
  const child = startDetached([process.execPath, ...args], { env, outFd: fd });
  closeSync(fd);
  let exited: number | null | undefined;
  child.on('exit', (code, sig) => (exited = code ?? (sig ? 128 : 1)));
  const ready = await until(
    async () => {
      if (exited !== undefined) return 'exited' as const;
      const st = await readState(io.paths, name);
      return st && st.supervisor.pid === child.pid && st.ready ? st : undefined;
    },
    { intervalMs: 50, timeoutMs: opts.timeoutMs },
  );
  if (ready === 'exited' && exited === ExitCode.busy) {
    // another `oob start` (or the unit) won the race for the supervisor's lock: that one is the
    // supervisor, as if it had been there first; its state file names it once it is up
    const other = await until(() => findSupervisor(io, name), { intervalMs: 50, timeoutMs: opts.timeoutMs });
    if (other) return { already: true, pid: other.pid, status: '', log };
  }
  if (ready === 'exited') {
    const last = await tail(log, 10);
    // its one-line error ("oob: ..."; detail lines follow it), else its last line
    const why = [...last].reverse().find((l) => l.startsWith('oob: ')) ?? last[last.length - 1] ?? '(no output)';
    // pass on the supervisor's own exit code (lock-out, missing NIC...) where it is one of ours
    const own = exited ? Object.entries(ExitCode).find(([, v]) => v === exited)?.[0] : undefined;
    throw new OobError(
      (own ?? 'supervisorNotReady') as ExitCodeName,
      `the supervisor for ${name} exited with status ${exited} before it was ready: ${why}`,
      [`log: ${log}`],
    );
  }
  if (!ready)
    throw new OobError(
      'supervisorNotReady',
      `the supervisor for ${name} (pid ${child.pid}) is not ready after ${Math.round(opts.timeoutMs / 1000)} s; it keeps trying: see ${log}, or oob stop ${name}`,
    );
  const svc = Object.values(ready.services);
  return {
    already: false,
    pid: child.pid!,
    status: `${svc.filter((s) => s.ready).length}/${svc.length} services ready`,
    log,
  };
}

/** SIGTERM to the supervisor (it stops its services and brings the network down); after the timeout SIGKILL, and oob down does that part. */
export async function stopSupervisor(io: Io, name: string, opts: { timeoutMs: number }) {
  const sup = await findSupervisor(io, name);
  if (!sup) return { wasRunning: false, pid: 0, forced: false };
  let forced = false;
  await terminate([sup], { signal: 'SIGTERM', graceMs: opts.timeoutMs, intervalMs: 50, onKill: () => (forced = true) });
  if (!forced) return { wasRunning: true, pid: sup.pid, forced: false };
  const { downProfile } = await import('../engine/ops.js');
  await downProfile(io, name);
  await fsp.rm(runtimePaths(io.paths, name).stateFile, { force: true });
  return { wasRunning: true, pid: sup.pid, forced: true };
}
