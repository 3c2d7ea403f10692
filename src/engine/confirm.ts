// Remote-safe changes (issue 9): `oob up|down NAME --confirm[=DURATION]` applies the change in a
// worker that outlives the caller, then waits for `oob confirm NAME`; without it in time (or on
// `oob revert NAME`) it reverts: up is undone by down from the NIC record, down by up from the
// profile as it was loaded before the change.
//
// Everything between the caller, the worker and confirm/revert goes through files under
// RUNTIME/confirm (state/layout.ts), never a socket: a file is seen from every network namespace,
// so `oob confirm` typed in an SSH session that came in through the management namespace works.
//   NAME.json          the pending change (created exclusively: one per profile)
//   NAME.decision      "confirm" or "revert", written by oob confirm / oob revert
//   NAME.outcome.json  how it ended, for the caller that waits and for confirm/revert
//
// The worker runs in its own session and process group (or, under systemd, in a transient unit
// oob-confirm-NAME), with no terminal and no tie to the caller's stdio: the caller, its SSH
// session, its whole process group can die, and the change still finishes and is confirmed or reverted.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, promises as fsp, readlinkSync } from 'node:fs';
import { OobError } from '../errors.js';
import {
  confirmDir,
  confirmLogFile,
  confirmUnitName,
  decisionFile,
  outcomeFile,
  pendingFile,
} from '../state/layout.js';
import { readVersionedJson, writeFileAtomic } from '../sys/files.js';
import type { Io } from '../sys/io.js';
import { startTime } from '../sys/proc.js';
import { pendingOf, readPending, type ChangeKind, type Outcome, type Pending } from '../state/pending.js';
import { sleep, until } from '../sys/until.js';
import { loadProfile } from '../profile/load.js';
import type { Profile } from '../profile/types.js';
import { downProfiles, upProfiles } from './ops.js';

export const readOutcome = (io: Io, name: string) =>
  readVersionedJson<Outcome>(outcomeFile(io.paths.runtimeDir, name), 1);
const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
const confirmCmd = (name: string) => `oob confirm ${name}`;
const revertCmd = (name: string) => `oob revert ${name}`;

/** A change waiting for confirmation blocks every other change of the profile: one line saying how to end it. */
export async function refuseIfPending(io: Io, names: string[]): Promise<void> {
  for (const n of names) {
    const p = await pendingOf(io, n);
    if (!p) continue;
    if (!p.alive && p.state === 'starting') {
      // its caller died before a worker took it: nothing was applied
      await fsp.rm(pendingFile(io.paths.runtimeDir, n), { force: true });
      continue;
    }
    throw new OobError(
      'busy',
      p.alive
        ? `${n} has a change waiting for confirmation (${p.what}, since ${p.since}${p.deadline ? `, reverted at ${p.deadline}` : ''}): keep it with "${confirmCmd(n)}" or undo it now with "${revertCmd(n)}"`
        : `${n} has an unconfirmed ${p.what} (since ${p.since}) whose worker is gone: undo it with "${revertCmd(n)}" or keep it with "${confirmCmd(n)}"`,
    );
  }
}

export interface ConfirmedOpts {
  windowS: number;
  force: boolean;
  waitMs: number;
  /** Print the countdown (stderr) and the result (stdout). */
  say: (line: string) => void;
  tell: (line: string) => void;
  quiet: boolean;
}

/** Same network and mount namespace as PID 1: a transient unit would run where we are. */
function sameNamespacesAsInit(): boolean {
  try {
    return ['net', 'mnt'].every((k) => readlinkSync(`/proc/1/ns/${k}`) === readlinkSync(`/proc/self/ns/${k}`));
  } catch {
    return false;
  }
}

/** The worker's command line: this same oob (the script node runs), the hidden verb. */
function workerArgv(io: Io, what: ChangeKind, name: string, o: ConfirmedOpts): string[] {
  return [
    process.execPath,
    process.argv[1]!,
    '__confirm-worker',
    what,
    name,
    `--window=${o.windowS}`,
    `--wait=${Math.round(o.waitMs / 1000)}`,
    `--profile-dir=${io.paths.profileDir}`,
    ...(o.force ? ['--force'] : []),
  ];
}

/**
 * Start the worker: under systemd (and in PID 1's namespaces, where the unit would run) a transient
 * unit; otherwise a child in its own session (setsid), stdio on a log file, not waited for.
 */
async function startWorker(io: Io, argv: string[], name: string): Promise<string> {
  const env = { ...io.env, OOB_RUNTIME_DIR: io.paths.runtimeDir };
  if (existsSync('/run/systemd/system') && sameNamespacesAsInit() && !io.env.OOB_CONFIRM_NO_SYSTEMD) {
    const unit = confirmUnitName(name);
    await io.run(
      [
        'systemd-run',
        '--quiet',
        '--collect',
        `--unit=${unit}`,
        '--service-type=exec',
        `--description=oob: ${name}'s change waiting for oob confirm`,
        `--setenv=OOB_RUNTIME_DIR=${io.paths.runtimeDir}`,
        '--',
        ...argv,
      ],
      { timeoutMs: 30_000 },
    );
    return `unit ${unit}.service (journalctl -u ${unit})`;
  }
  const log = confirmLogFile(io.paths.runtimeDir, name);
  const fd = openSync(log, 'a', 0o600);
  try {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    return `pid ${child.pid}, log ${log}`;
  } finally {
    closeSync(fd);
  }
}

/**
 * The caller's side of `up|down NAME --confirm`: claim the pending slot, start the worker, follow it
 * (the change, the countdown, the outcome). Dying here changes nothing for the worker. The exit code.
 */
export async function confirmedChange(io: Io, what: ChangeKind, name: string, o: ConfirmedOpts): Promise<number> {
  const rt = io.paths.runtimeDir;
  await refuseIfPending(io, [name]);
  // the profile must load before anything starts: a bad one is the caller's one clear line
  if (what === 'up') await loadProfile(io.paths.profileDir, name);
  await fsp.mkdir(confirmDir(rt), { recursive: true, mode: 0o700 });
  const pending: Pending = {
    version: 1,
    profile: name,
    what,
    state: 'starting',
    since: new Date().toISOString(),
    windowSeconds: o.windowS,
    pid: process.pid,
    ...((await startTime(process.pid)) !== undefined ? { pidStart: (await startTime(process.pid))! } : {}),
    revert: what === 'up' ? `oob down ${name}` : `oob up ${name}`,
  };
  try {
    await fsp.writeFile(pendingFile(rt, name), json(pending), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    await refuseIfPending(io, [name]);
    throw new OobError('busy', `${name}: another oob is starting a confirmed change of it right now`);
  }
  await fsp.rm(decisionFile(rt, name), { force: true });
  await fsp.rm(outcomeFile(rt, name), { force: true });
  let where: string;
  try {
    where = await startWorker(io, workerArgv(io, what, name, o), name);
  } catch (e) {
    await fsp.rm(pendingFile(rt, name), { force: true });
    throw e;
  }
  if (!o.quiet) o.say(`${name}: ${what} runs in a worker that outlives this session (${where})`);
  return follow(io, name, o);
}

/** Follow a worker until its outcome: print what it did, the countdown, the result. */
async function follow(io: Io, name: string, o: ConfirmedOpts): Promise<number> {
  let told = false;
  let lastTick = -1;
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  for (;;) {
    const done = await readOutcome(io, name);
    if (done) {
      if (tty && told) process.stderr.write('\n');
      if (!told && done.did) o.tell(done.did); // it ended before this caller saw it wait
      return report(name, done, o);
    }
    const p = await pendingOf(io, name);
    if (!p)
      throw new OobError(
        'system',
        `${name}: the confirmed change's worker left neither a pending change nor an outcome in ${confirmDir(io.paths.runtimeDir)}`,
      );
    if (!p.alive && p.state !== 'starting')
      throw new OobError(
        'rollbackIncomplete',
        `${name}: the worker of the ${p.what} died (state ${p.state}): undo with "${revertCmd(name)}", or keep it with "${confirmCmd(name)}"`,
      );
    if (p.state === 'starting' && Date.now() - started > 30_000)
      throw new OobError(
        'system',
        `${name}: the worker did not start in 30 s (see ${confirmLogFile(io.paths.runtimeDir, name)} or journalctl -u ${confirmUnitName(name)}); "${revertCmd(name)}" clears the pending change`,
      );
    if (p.state === 'waiting' && p.deadline) {
      if (!told) {
        told = true;
        if (p.did) o.tell(p.did);
        o.say(
          `${name}: not kept unless confirmed: run "${confirmCmd(name)}" within ${p.windowSeconds} s (from any session, e.g. one through the new path); "${revertCmd(name)}" undoes it now`,
        );
      }
      const left = Math.max(0, Math.ceil((Date.parse(p.deadline) - Date.now()) / 1000));
      if (!o.quiet && left !== lastTick && (tty || left % 10 === 0 || left <= 5)) {
        lastTick = left;
        const line = `${name}: ${left} s left to run "${confirmCmd(name)}"`;
        if (tty) process.stderr.write(`\r${line}\x1b[K`);
        else o.say(line);
      }
    }
    await sleep(200);
  }
}

function report(name: string, r: Outcome, o: ConfirmedOpts): number {
  switch (r.result) {
    case 'confirmed':
      o.tell(`${name}: ${r.what} confirmed and kept`);
      return 0;
    case 'nothing':
      o.tell(r.why);
      return 0;
    case 'reverted':
      throw new OobError('rolledBack', `${name}: ${r.why}`, r.details);
    case 'failed':
      throw new OobError('rollbackIncomplete', `${name}: ${r.why}`, r.details);
  }
}

/** What the worker writes as it goes (atomically: confirm and status read it any time). */
async function setPending(io: Io, p: Pending): Promise<void> {
  await writeFileAtomic(pendingFile(io.paths.runtimeDir, p.profile), json(p), 0o600);
}

async function finish(io: Io, p: Pending, result: Outcome['result'], why: string, details: string[] = []) {
  const rt = io.paths.runtimeDir;
  const out: Outcome = {
    version: 1,
    profile: p.profile,
    what: p.what,
    result,
    ...(p.did ? { did: p.did } : {}),
    why,
    details,
    at: new Date().toISOString(),
  };
  await writeFileAtomic(outcomeFile(rt, p.profile), json(out), 0o600);
  await fsp.rm(decisionFile(rt, p.profile), { force: true });
  await fsp.rm(pendingFile(rt, p.profile), { force: true });
  io.log.info(`${p.profile}: ${result}: ${why}`);
}

const upLine = (r: Awaited<ReturnType<typeof upProfiles>>[number]) => {
  const p = r.profile;
  return `${p.name}: up: ${r.nicName ?? 'no NIC'} in namespace ${p.name}, ${r.addresses.join(', ')}${r.gateways.length ? `, default via ${r.gateways.join(', ')}` : ''} (${r.steps.length} steps)`;
};

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
const detailsOf = (e: unknown) => (e instanceof OobError ? e.details : []);

/** Undo an applied change: up by down (from the record), down by up (from the profile as it was). */
async function undo(io: Io, p: Pending, profile: Profile | undefined, waitMs: number): Promise<void> {
  if (p.what === 'up') await downProfiles(io, [p.profile], { waitMs });
  else await upProfiles(io, [profile ?? (await loadProfile(io.paths.profileDir, p.profile))], { force: true, waitMs });
}

export interface WorkerOpts {
  windowS: number;
  force: boolean;
  waitMs: number;
}

/** The worker: apply, wait for the decision or the deadline, keep or revert. Never throws: the outcome file says how it went. */
export async function runWorker(io: Io, what: ChangeKind, name: string, o: WorkerOpts): Promise<number> {
  // the caller's terminal, session and pipes are not ours to die with
  for (const sig of ['SIGHUP', 'SIGPIPE', 'SIGINT'] as const) process.on(sig, () => {});
  let stop = false;
  process.on('SIGTERM', () => {
    stop = true; // stopped (systemctl stop oob-confirm-NAME): an unconfirmed change is not kept
  });
  const rt = io.paths.runtimeDir;
  const claimed = await readPending(io, name);
  if (!claimed || claimed.what !== what) {
    io.log.warn(`${name}: no pending ${what} in ${pendingFile(rt, name)}: nothing to do`);
    return 1;
  }
  const p: Pending = { ...claimed, pid: process.pid, state: 'applying' };
  const st = await startTime(process.pid);
  if (st !== undefined) p.pidStart = st;
  await setPending(io, p);
  let profile: Profile | undefined;
  try {
    if (what === 'up') {
      const [r] = await upProfiles(io, [await loadProfile(io.paths.profileDir, name)], {
        force: true, // with --confirm the lock-out guard is the safety net: it reverts unless confirmed
        waitMs: o.waitMs,
      });
      if (!r!.steps.length) {
        await finish(io, p, 'nothing', `${name}: already up, nothing to do (nothing to confirm)`);
        return 0;
      }
      p.did = upLine(r!);
    } else {
      // the way back up: the profile as it is now (an edit within the window does not change the revert)
      profile = await loadProfile(io.paths.profileDir, name).catch(() => undefined);
      const [r] = await downProfiles(io, [name], { waitMs: o.waitMs, force: o.force });
      if (!r!.steps.length) {
        await finish(io, p, 'nothing', `${name}: already down, nothing to do (nothing to confirm)`);
        return 0;
      }
      if (!profile) {
        await finish(io, p, 'confirmed', `down done; it cannot be reverted: the profile does not load`);
        return 0;
      }
      p.did = `${name}: down (${r!.steps.length} steps)`;
    }
  } catch (e) {
    // the change itself failed: ops rolled it back (or says what is left)
    await finish(io, p, 'failed', `${what} failed: ${messageOf(e)}`, detailsOf(e));
    return 1;
  }
  p.deadline = new Date(Date.now() + o.windowS * 1000).toISOString();
  p.state = 'waiting';
  await setPending(io, p);
  io.log.info(`${p.did}; waiting for "${confirmCmd(name)}" until ${p.deadline}`);
  const decision = await until(
    async () => {
      if (stop) return 'stopped';
      const d = (await fsp.readFile(decisionFile(rt, name), 'utf8').catch(() => '')).trim();
      return d === 'confirm' || d === 'revert' ? d : undefined;
    },
    { intervalMs: 200, timeoutMs: Math.max(0, Date.parse(p.deadline) - Date.now()) },
  );
  if (decision === 'confirm') {
    await finish(io, p, 'confirmed', `${what} confirmed and kept`);
    return 0;
  }
  const why =
    decision === 'revert'
      ? `reverted by "${revertCmd(name)}"`
      : decision === 'stopped'
        ? 'the worker was stopped (SIGTERM) before a confirmation'
        : `not confirmed within ${o.windowS} s`;
  return revertNow(io, p, profile, o.waitMs, why);
}

async function revertNow(
  io: Io,
  p: Pending,
  profile: Profile | undefined,
  waitMs: number,
  why: string,
): Promise<number> {
  await setPending(io, { ...p, state: 'reverting', pid: process.pid });
  try {
    await undo(io, p, profile, waitMs);
  } catch (e) {
    await finish(io, p, 'failed', `${why}; the revert (${p.revert}) did not finish: ${messageOf(e)}`, detailsOf(e));
    return 1;
  }
  await finish(io, p, 'reverted', `${why}: ${p.what} reverted (${p.revert})`);
  return 0;
}

/** `oob confirm NAME` / `oob revert NAME`: tell the worker, wait for its outcome; a worker that is gone is stood in for. */
export async function decide(io: Io, name: string, decision: 'confirm' | 'revert', waitMs: number): Promise<Outcome> {
  const rt = io.paths.runtimeDir;
  const p = await pendingOf(io, name);
  if (!p) {
    const last = await readOutcome(io, name);
    throw new OobError(
      'precondition',
      `${name} has no change waiting for confirmation${last ? ` (the last one: ${last.what} ${last.result} at ${last.at}: ${last.why})` : ''}`,
    );
  }
  if (!p.alive) {
    // its worker is gone (killed, or the machine's runtime directory survived it): do its part here
    if (decision === 'confirm' || p.state === 'starting')
      await finish(
        io,
        p,
        decision === 'confirm' ? 'confirmed' : 'reverted',
        `${p.what} ${decision}ed (its worker was gone)`,
      );
    else await revertNow(io, p, undefined, waitMs, `reverted by "${revertCmd(name)}" (its worker was gone)`);
    return (await readOutcome(io, name))!;
  }
  if (p.state !== 'waiting' && decision === 'confirm')
    throw new OobError(
      'busy',
      `${name}: the ${p.what} is still being applied (${p.state}); confirm it when it is done`,
    );
  await writeFileAtomic(decisionFile(rt, name), decision + '\n', 0o600);
  const out = await until(
    async () => {
      const o = await readOutcome(io, name);
      return o && o.at >= p.since ? o : undefined;
    },
    { intervalMs: 100, timeoutMs: waitMs },
  );
  if (!out)
    throw new OobError(
      'busy',
      `${name}: the worker (pid ${p.pid}) did not answer the ${decision} in ${waitMs / 1000} s`,
    );
  return out;
}
