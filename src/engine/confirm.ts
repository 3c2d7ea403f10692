// Remote-safe changes (issue 9): `oob up|down|enable|disable NAME --confirm[=DURATION]` applies the
// change in a worker that outlives the caller, then waits for `oob confirm NAME`; without it in time
// (or on `oob revert NAME`) it reverts. What a change is (apply, undo) is the caller's (commands/
// confirm.ts: up/down from engine/ops.ts, enable/disable from systemd/confirm.ts); this is the
// machinery: the pending record, the worker, the decision, the outcome.
//
// Everything between the caller, the worker and confirm/revert goes through files, never a socket:
// a file is seen from every network namespace, so `oob confirm` typed in an SSH session that came
// in through the management namespace works.
//   STATE/confirm/NAME.json      the pending change (created exclusively: one per profile), with
//                                what the revert needs (for enable/disable the files as they were),
//                                written before anything changes; persistent: a boot finds it
//   RUNTIME/confirm/NAME.decision      "confirm" or "revert", written by oob confirm / oob revert
//   RUNTIME/confirm/NAME.outcome.json  how it ended, for the caller that waits and for confirm/revert
//
// The worker runs in its own session and process group (or, under systemd, in a transient unit
// oob-confirm-NAME that systemd restarts if it is killed), with no terminal and no tie to the
// caller's stdio: the caller, its SSH session, its whole process group can die, and the change
// still finishes and is confirmed or reverted. A worker that is gone anyway (SIGKILL without
// systemd, a reboot) leaves a stale record: the next change of the profile, `oob confirm/revert`
// and the unit's start resolve it (resolveStale).
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, promises as fsp, readlinkSync } from 'node:fs';
import { OobError } from '../errors.js';
import {
  confirmDir,
  confirmLogFile,
  confirmUnitName,
  decisionFile,
  outcomeFile,
  pendingDir,
  pendingFile,
} from '../state/layout.js';
import { readVersionedJson, writeFileAtomic } from '../sys/files.js';
import type { Io } from '../sys/io.js';
import { startTime } from '../sys/proc.js';
import { bootId, pendingGarbage, pendingOf, type ChangeKind, type Outcome, type Pending } from '../state/pending.js';
import { sleep, until } from '../sys/until.js';

export const readOutcome = (io: Io, name: string) =>
  readVersionedJson<Outcome>(outcomeFile(io.paths.runtimeDir, name), 1);
const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
const confirmCmd = (name: string) => `oob confirm ${name}`;
const revertCmd = (name: string) => `oob revert ${name}`;

/** What was applied: the lines the plain command prints and its --json document; or nothing to do. */
export type Applied = { did: string; doc: unknown } | { nothing: string; doc: unknown };

/** One kind of change, as the machinery needs it (commands/confirm.ts makes them). */
export interface Change {
  /** In the caller, before anything: check the input (a bad one is one clear line, nothing changed) and return what the record keeps for the worker and the revert. */
  check(): Promise<Pick<Pending, 'args' | 'before'>>;
  /** In the worker: apply. A failure is rolled back by the change itself (as the plain command does). */
  apply(p: Pending): Promise<Applied>;
  /** Undo an applied (or partly applied) change, from the record alone: the worker may be another process. */
  undo(p: Pending): Promise<void>;
}
export type ChangeFor = (p: Pick<Pending, 'what' | 'profile'>) => Change;

/**
 * A pending change whose worker is gone (SIGKILL, a crash, a reboot) is resolved here, so that it
 * never strands the NIC: one that was still being applied or reverted, or is past its deadline, is
 * reverted; one still inside its window waits for confirm or revert (the admin may be on the new
 * path). Returns what is left: undefined when nothing is pending any more.
 */
export async function resolveStale(
  io: Io,
  name: string,
  changeFor: ChangeFor,
): Promise<(Pending & { alive: boolean }) | undefined> {
  const p = await pendingOf(io, name);
  if (!p || p.alive) return p;
  if (p.state === 'starting') {
    // its caller died before a worker took it: nothing was applied
    await fsp.rm(pendingFile(io.paths, name), { force: true });
    io.log.warn(`${name}: a ${p.what} --confirm whose caller died before it started was dropped; nothing had changed`);
    return undefined;
  }
  const overdue = p.state !== 'waiting' || !p.deadline || Date.parse(p.deadline) <= Date.now();
  if (!overdue) return p;
  io.log.warn(
    `${name}: the worker of the unconfirmed ${p.what} (since ${p.since}) is gone and ${p.state === 'waiting' ? `its deadline ${p.deadline} passed` : `it was ${p.state}`}: reverting it now (${p.revert})`,
  );
  await revertNow(io, p, changeFor(p), `not confirmed (its worker was gone)`);
  return undefined;
}

/** A change waiting for confirmation blocks every other change of the profile: one line saying how to end it. */
export async function refuseIfPending(io: Io, names: string[], changeFor: ChangeFor): Promise<void> {
  for (const n of names) {
    const bad = await pendingGarbage(io, n);
    if (bad)
      throw new OobError(
        'precondition',
        `${pendingFile(io.paths, n)} is ${bad}: nothing was changed; look at it, then remove it (it cannot be confirmed or reverted)`,
      );
    const p = await resolveStale(io, n, changeFor);
    if (!p) continue;
    throw new OobError(
      'busy',
      p.alive
        ? `${n} has a change waiting for confirmation (${p.what}, since ${p.since}${p.deadline ? `, reverted at ${p.deadline}` : ''}): keep it with "${confirmCmd(n)}" or undo it now with "${revertCmd(n)}"`
        : `${n} has an unconfirmed ${p.what} (since ${p.since}, reverted at ${p.deadline}) whose worker is gone: undo it with "${revertCmd(n)}" or keep it with "${confirmCmd(n)}"`,
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
  /** --json: the change's document on stdout (with how the confirmation ended), nothing else there. */
  json: boolean;
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
function workerArgv(
  io: Io,
  what: ChangeKind,
  name: string,
  o: Pick<ConfirmedOpts, 'windowS' | 'waitMs' | 'force'>,
): string[] {
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

/** Whether a worker would run as a transient unit (systemd is init and we are in its namespaces). */
export const underSystemd = (io: Io) =>
  existsSync('/run/systemd/system') && sameNamespacesAsInit() && !io.env.OOB_CONFIRM_NO_SYSTEMD;

/**
 * Start the worker: under systemd (and in PID 1's namespaces, where the unit would run) a transient
 * unit, restarted by systemd if it is killed; otherwise a child in its own session (setsid), stdio
 * on a log file, not waited for.
 */
async function startWorker(io: Io, argv: string[], name: string): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    ...io.env,
    OOB_RUNTIME_DIR: io.paths.runtimeDir,
    ...(io.paths.stateDir ? { OOB_STATE_DIR: io.paths.stateDir } : {}),
  };
  if (underSystemd(io)) {
    const unit = confirmUnitName(name);
    // a unit of that name left failed by an earlier worker would refuse the new one
    await io.run(['systemctl', 'reset-failed', `${unit}.service`], { allowFail: true, timeoutMs: 10_000 });
    await io.run(
      [
        'systemd-run',
        '--quiet',
        '--collect',
        `--unit=${unit}`,
        '--service-type=exec',
        // killed (SIGKILL, OOM): started again, it resumes from the record (runWorker)
        '--property=Restart=on-abnormal',
        '--property=RestartSec=1',
        `--description=oob: ${name}'s change waiting for oob confirm`,
        `--setenv=OOB_RUNTIME_DIR=${io.paths.runtimeDir}`,
        ...(env.OOB_STATE_DIR ? [`--setenv=OOB_STATE_DIR=${env.OOB_STATE_DIR}`] : []),
        '--',
        ...argv,
      ],
      { timeoutMs: 30_000 },
    );
    return `unit ${unit}.service (journalctl -u ${unit})`;
  }
  await fsp.mkdir(confirmDir(io.paths.runtimeDir), { recursive: true, mode: 0o700 });
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
 * The caller's side of `up|down|enable|disable NAME --confirm`: check, claim the pending slot with
 * what the revert needs, start the worker, follow it (the change, the countdown, the outcome).
 * Dying here changes nothing for the worker. The exit code.
 */
export async function confirmedChange(
  io: Io,
  what: ChangeKind,
  name: string,
  change: ChangeFor,
  o: ConfirmedOpts,
): Promise<number> {
  const rt = io.paths.runtimeDir;
  await refuseIfPending(io, [name], change);
  // the input must be good before anything starts: a bad one is the caller's one clear line
  const kept = await change({ what, profile: name }).check();
  await fsp.mkdir(pendingDir(io.paths), { recursive: true, mode: 0o700 });
  await fsp.mkdir(confirmDir(rt), { recursive: true, mode: 0o700 });
  const st = await startTime(process.pid);
  const boot = await bootId();
  const pending: Pending = {
    version: 1,
    profile: name,
    what,
    state: 'starting',
    since: new Date().toISOString(),
    windowSeconds: o.windowS,
    pid: process.pid,
    ...(st !== undefined ? { pidStart: st } : {}),
    ...(boot ? { bootId: boot } : {}),
    revert: {
      up: `oob down ${name}`,
      down: `oob up ${name}`,
      enable: `${name}'s unit files, profile and enablement as before the enable`,
      disable: `${name}'s unit files, enablement and running state as before the disable`,
    }[what],
    ...kept,
  };
  // written whole before it is published (a crash never leaves half a record), and exclusively: one per profile
  const tmp = `${pendingFile(io.paths, name)}.new-${process.pid}`;
  await fsp.writeFile(tmp, json(pending), { mode: 0o600 });
  try {
    await fsp.link(tmp, pendingFile(io.paths, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    await refuseIfPending(io, [name], change);
    throw new OobError('busy', `${name}: another oob is starting a confirmed change of it right now`);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  await fsp.rm(decisionFile(rt, name), { force: true });
  await fsp.rm(outcomeFile(rt, name), { force: true });
  let where: string;
  try {
    where = await startWorker(io, workerArgv(io, what, name, o), name);
  } catch (e) {
    await fsp.rm(pendingFile(io.paths, name), { force: true });
    throw e;
  }
  if (!o.quiet) o.say(`${name}: ${what} runs in a worker that outlives this session (${where})`);
  return follow(io, name, o);
}

/** Follow a worker until its outcome: print what it did, the countdown, the result. */
async function follow(io: Io, name: string, o: ConfirmedOpts): Promise<number> {
  let told = false;
  let lastTick = -1;
  const tty = process.stderr.isTTY === true && !o.quiet;
  const started = Date.now();
  for (;;) {
    const done = await readOutcome(io, name);
    if (done) {
      if (tty && told) process.stderr.write('\n');
      if (!told && done.did && !o.json) o.tell(done.did); // it ended before this caller saw it wait
      return report(name, done, o);
    }
    const p = await pendingOf(io, name);
    if (!p)
      throw new OobError(
        'system',
        `${name}: the confirmed change's worker left neither a pending change in ${pendingDir(io.paths)} nor an outcome in ${confirmDir(io.paths.runtimeDir)}`,
      );
    if (!p.alive && p.state !== 'starting' && !underSystemd(io))
      throw new OobError(
        'rollbackIncomplete',
        `${name}: the worker of the ${p.what} died (state ${p.state}): the next change of ${name} reverts it once overdue; undo now with "${revertCmd(name)}", or keep it with "${confirmCmd(name)}"`,
      );
    if (p.state === 'starting' && Date.now() - started > 30_000)
      throw new OobError(
        'system',
        `${name}: the worker did not start in 30 s (see ${confirmLogFile(io.paths.runtimeDir, name)} or journalctl -u ${confirmUnitName(name)}); "${revertCmd(name)}" clears the pending change`,
      );
    if (p.state === 'waiting' && p.deadline) {
      if (!told) {
        told = true;
        if (p.did && !o.json) o.tell(p.did);
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

/** The exit code of an outcome; with --json its document (the change's, and how the confirmation ended) on stdout first. */
function report(name: string, r: Outcome, o: ConfirmedOpts): number {
  if (o.json) {
    const doc = (r.doc ?? {}) as Record<string, unknown>;
    const kept = r.result === 'confirmed' || r.result === 'nothing';
    process.stdout.write(
      JSON.stringify({
        ...doc,
        changed: kept ? doc.changed === true : false,
        confirm: { result: r.result, why: r.why, at: r.at },
      }) + '\n',
    );
  }
  switch (r.result) {
    case 'confirmed':
      if (!o.json) o.tell(`${name}: ${r.what} confirmed and kept`);
      return 0;
    case 'nothing':
      if (!o.json) o.tell(r.why);
      return 0;
    case 'reverted':
      throw new OobError('rolledBack', `${name}: ${r.why}`, r.details);
    case 'failed':
      throw new OobError('rollbackIncomplete', `${name}: ${r.why}`, r.details);
  }
}

/** What the worker writes as it goes (atomically: confirm and status read it any time). */
async function setPending(io: Io, p: Pending): Promise<void> {
  await writeFileAtomic(pendingFile(io.paths, p.profile), json(p), 0o600);
}

async function finish(
  io: Io,
  p: Pending,
  result: Outcome['result'],
  why: string,
  details: string[] = [],
  doc?: unknown,
) {
  const rt = io.paths.runtimeDir;
  const out: Outcome = {
    version: 1,
    profile: p.profile,
    what: p.what,
    result,
    ...(p.did ? { did: p.did } : {}),
    ...(doc !== undefined ? { doc } : {}),
    why,
    details,
    at: new Date().toISOString(),
  };
  await fsp.mkdir(confirmDir(rt), { recursive: true, mode: 0o700 });
  await writeFileAtomic(outcomeFile(rt, p.profile), json(out), 0o600);
  await fsp.rm(decisionFile(rt, p.profile), { force: true });
  await fsp.rm(pendingFile(io.paths, p.profile), { force: true });
  io.log.info(`${p.profile}: ${result}: ${why}`);
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
const detailsOf = (e: unknown) => (e instanceof OobError ? e.details : []);

export interface WorkerOpts {
  windowS: number;
  waitMs: number;
}

/** This process as the record's holder. */
async function holder(): Promise<Pick<Pending, 'pid' | 'pidStart' | 'bootId'>> {
  const st = await startTime(process.pid);
  const boot = await bootId();
  return { pid: process.pid, ...(st !== undefined ? { pidStart: st } : {}), ...(boot ? { bootId: boot } : {}) };
}

/**
 * The worker: apply, wait for the decision or the deadline, keep or revert. Never throws: the
 * outcome file says how it went. Started again after it was killed (systemd's Restart=), it
 * resumes from the record: still inside the window it waits on, else it reverts.
 */
export async function runWorker(
  io: Io,
  what: ChangeKind,
  name: string,
  changeFor: ChangeFor,
  o: WorkerOpts,
): Promise<number> {
  // the caller's terminal, session and pipes are not ours to die with
  for (const sig of ['SIGHUP', 'SIGPIPE', 'SIGINT'] as const) process.on(sig, () => {});
  let stop = false;
  process.on('SIGTERM', () => {
    stop = true; // stopped (systemctl stop oob-confirm-NAME): an unconfirmed change is not kept
  });
  const rt = io.paths.runtimeDir;
  const claimed = await pendingOf(io, name);
  if (!claimed || claimed.what !== what || (claimed.state !== 'starting' && claimed.alive)) {
    io.log.warn(`${name}: no pending ${what} for this worker in ${pendingFile(io.paths, name)}: nothing to do`);
    return 1;
  }
  const { alive: _alive, ...rest } = claimed;
  void _alive;
  const change = changeFor(claimed);
  const p: Pending = { ...rest, ...(await holder()) };
  if (claimed.state === 'starting') {
    p.state = 'applying';
    await setPending(io, p);
    let applied: Applied;
    try {
      applied = await change.apply(p);
    } catch (e) {
      // the change itself failed: it rolled itself back (or says what is left)
      await finish(io, p, 'failed', `${what} failed: ${messageOf(e)}`, detailsOf(e));
      return 1;
    }
    if ('nothing' in applied) {
      await finish(io, p, 'nothing', applied.nothing, [], applied.doc);
      return 0;
    }
    p.did = applied.did;
    p.args = { ...(p.args ?? {}), doc: applied.doc };
    p.deadline = new Date(Date.now() + o.windowS * 1000).toISOString();
    p.state = 'waiting';
    await setPending(io, p);
    io.log.info(`${p.did.split('\n').pop()}; waiting for "${confirmCmd(name)}" until ${p.deadline}`);
  } else if (claimed.state !== 'waiting' || !claimed.deadline || Date.parse(claimed.deadline) <= Date.now()) {
    // resumed after the previous worker was killed mid-way or past the deadline
    return revertNow(io, p, change, `not confirmed (its worker was killed while ${claimed.state})`);
  } else {
    await setPending(io, p);
    io.log.info(`${name}: resumed the unconfirmed ${what}; waiting for "${confirmCmd(name)}" until ${p.deadline}`);
  }
  const decision = await until(
    async () => {
      if (stop) return 'stopped';
      const d = (await fsp.readFile(decisionFile(rt, name), 'utf8').catch(() => '')).trim();
      return d === 'confirm' || d === 'revert' ? d : undefined;
    },
    { intervalMs: 200, timeoutMs: Math.max(0, Date.parse(p.deadline!) - Date.now()) },
  );
  if (decision === 'confirm') {
    await finish(io, p, 'confirmed', `${what} confirmed and kept`, [], docOf(p));
    return 0;
  }
  if (decision === 'stopped' && (await shuttingDown(io))) {
    // the machine goes down inside the window: no revert racing the shutdown; the record stays and
    // the next boot reverts (the unit's start, commands/confirm.ts resolvePendingAtStart)
    io.log.info(`${name}: the system is shutting down: the unconfirmed ${what} is reverted at the next boot`);
    return 0;
  }
  const why =
    decision === 'revert'
      ? `reverted by "${revertCmd(name)}"`
      : decision === 'stopped'
        ? 'the worker was stopped (SIGTERM) before a confirmation'
        : `not confirmed within ${p.windowSeconds} s`;
  return revertNow(io, p, change, why);
}

const docOf = (p: Pending) => p.args?.doc;

/** systemd is taking the machine down (reboot, poweroff). */
const shuttingDown = async (io: Io) =>
  underSystemd(io) &&
  (await io.run(['systemctl', 'is-system-running'], { allowFail: true, timeoutMs: 5_000 })).stdout.trim() ===
    'stopping';

async function revertNow(io: Io, p: Pending, change: Change, why: string): Promise<number> {
  const mine = { ...p, state: 'reverting' as const, ...(await holder()) };
  await setPending(io, mine);
  try {
    await change.undo(mine);
  } catch (e) {
    await finish(
      io,
      mine,
      'failed',
      `${why}; the revert (${p.revert}) did not finish: ${messageOf(e)}`,
      detailsOf(e),
      docOf(p),
    );
    return 1;
  }
  await finish(io, mine, 'reverted', `${why}: ${p.what} reverted (${p.revert})`, [], docOf(p));
  return 0;
}

/** `oob confirm NAME` / `oob revert NAME`: tell the worker, wait for its outcome; a worker that is gone is stood in for. */
export async function decide(
  io: Io,
  name: string,
  decision: 'confirm' | 'revert',
  changeFor: ChangeFor,
  waitMs: number,
): Promise<Outcome> {
  const rt = io.paths.runtimeDir;
  const bad = await pendingGarbage(io, name);
  if (bad)
    throw new OobError(
      'precondition',
      `${pendingFile(io.paths, name)} is ${bad}: it cannot be ${decision}ed; look at it, then remove it`,
    );
  const p = await pendingOf(io, name);
  if (!p) {
    const last = await readOutcome(io, name);
    throw new OobError(
      'precondition',
      `${name} has no change waiting for confirmation${last ? ` (the last one: ${last.what} ${last.result} at ${last.at}: ${last.why})` : ''}`,
    );
  }
  if (!p.alive) {
    // its worker is gone (killed, or a reboot it did not survive): do its part here
    const { alive: _a, ...rec } = p;
    void _a;
    if (p.state === 'starting') {
      await fsp.rm(pendingFile(io.paths, name), { force: true });
      throw new OobError(
        'precondition',
        `${name}: the ${p.what} never started (its caller died first): nothing to ${decision}`,
      );
    }
    if (decision === 'confirm' && p.state === 'waiting')
      await finish(io, rec, 'confirmed', `${p.what} confirmed and kept (its worker was gone)`, [], docOf(rec));
    else
      await revertNow(
        io,
        rec,
        changeFor(rec),
        decision === 'revert'
          ? `reverted by "${revertCmd(name)}" (its worker was gone)`
          : `not confirmed: its worker was killed while ${p.state}`,
      );
    return (await readOutcome(io, name))!;
  }
  if (p.state !== 'waiting' && decision === 'confirm')
    throw new OobError(
      'busy',
      `${name}: the ${p.what} is still being ${p.state === 'reverting' ? 'reverted' : 'applied'} (${p.state}); ${p.state === 'reverting' ? 'it cannot be confirmed any more' : 'confirm it when it is done'}`,
    );
  await fsp.mkdir(confirmDir(rt), { recursive: true, mode: 0o700 });
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
