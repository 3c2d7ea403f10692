// `oob start` / `oob stop`: the supervisor in the background, without systemd.
import { openSync, closeSync, promises as fsp, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { ExitCode, OobError, type ExitCodeName } from '../errors.js';
import type { Io } from '../sys/io.js';
import { SYSTEMD_PRIVATE_ENV } from './notify.js';
import { startDetached } from '../sys/run.js';
import { selfCli } from '../sys/self.js';
import { sameProcess } from '../sys/proc.js';
import { runtimePaths } from '../state/layout.js';
import { readState } from '../state/supervisor.js';
import { loadProfile } from '../profile/load.js';

// the supervisor is this same oob: tsc's cli.js, or the bundle itself
const CLI = selfCli();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function running(io: Io, name: string) {
  const st = await readState(io.paths, name);
  if (st && (await sameProcess(st.supervisor.pid, st.supervisor.pidStart))) return st;
  return undefined;
}

async function tail(file: string, n = 5): Promise<string[]> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-n);
}

export async function startSupervisor(io: Io, name: string, opts: { timeoutMs: number; profileDirArg?: string | undefined }) {
  const cur = await running(io, name);
  if (cur) return { already: true, pid: cur.supervisor.pid, status: '', log: runtimePaths(io.paths, name).logFile };
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
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (exited !== undefined) {
      const last = await tail(log, 10);
      // its one-line error ("oob: ..."; detail lines follow it), else its last line
      const why = [...last].reverse().find((l) => l.startsWith('oob: ')) ?? last[last.length - 1] ?? '(no output)';
      // pass on the supervisor's own exit code (lock-out, missing NIC...) where it is one of ours
      const code = (Object.entries(ExitCode).find(([, v]) => v === exited)?.[0] ?? 'serviceGaveUp') as ExitCodeName;
      throw new OobError(code, `the supervisor for ${name} exited with status ${exited} before it was ready: ${why}`, [`log: ${log}`]);
    }
    const st = await readState(io.paths, name);
    if (st && st.supervisor.pid === child.pid && st.ready) {
      const svc = Object.values(st.services);
      return { already: false, pid: child.pid!, status: `${svc.filter((s) => s.ready).length}/${svc.length} services ready`, log };
    }
    if (Date.now() > deadline)
      throw new OobError('serviceGaveUp', `the supervisor for ${name} (pid ${child.pid}) is not ready after ${Math.round(opts.timeoutMs / 1000)} s; it keeps trying: see ${log}, or oob stop ${name}`);
    await sleep(50);
  }
}

export async function stopSupervisor(io: Io, name: string, opts: { timeoutMs: number }) {
  const st = await running(io, name);
  if (!st) return { wasRunning: false, pid: 0, forced: false };
  const { pid, pidStart } = st.supervisor;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (!(await sameProcess(pid, pidStart))) return { wasRunning: true, pid, forced: false };
    await sleep(50);
  }
  process.kill(pid, 'SIGKILL');
  const { downProfile } = await import('../engine/ops.js');
  await downProfile(io, name);
  await fsp.rm(runtimePaths(io.paths, name).stateFile, { force: true });
  return { wasRunning: true, pid, forced: true };
}
