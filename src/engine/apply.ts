// Apply a plan: consecutive `ip` steps for the same namespace go to one `ip -batch` process.
// Atomic mode: at the first failure, undo every completed step in reverse order.
// Best-effort mode (down): go on past failures and report each one; a step that needs a failed
// step (Step.needs) is not run.
// Every effect goes through the Io (its runner, its file effects): tests inject failures there.
import { OobError } from '../errors.js';
import { realFiles } from '../sys/files.js';
import type { Io } from '../sys/io.js';
import { CommandError, firstLine } from '../sys/run.js';
import { terminate } from '../sys/terminate.js';
import { until } from '../sys/until.js';
import type { Step } from '../plan/types.js';

export function quoteBatchArg(a: string): string {
  if (a === '') return '""';
  if (/^[A-Za-z0-9_.:/+@%,=-]+$/.test(a)) return a;
  if (a.includes('"')) return `'${a}'`;
  return `"${a}"`;
}

/** The command a step stands for, as a person would type it. */
export function stepCommand(s: Step): string {
  switch (s.kind) {
    case 'ip':
      return ['ip', ...(s.ns ? ['-n', s.ns] : []), ...s.args.map(quoteBatchArg)].join(' ');
    case 'write':
      return `write ${s.path} (${s.content.split('\n').filter(Boolean).length} lines, mode ${s.mode.toString(8)})`;
    case 'remove':
      return s.dir ? `rmdir ${s.path} (if empty)` : `rm -f ${s.path}`;
    case 'kill-ns-pids':
      return `kill $(ip netns pids ${s.ns})  (SIGTERM, then SIGKILL after 5 s)`;
    case 'sysctl':
      return `${s.ns ? `ip netns exec ${s.ns} ` : ''}sysctl -q -w ${s.key}=${s.value}`;
    case 'nft':
      return `${s.ns ? `ip netns exec ${s.ns} ` : ''}nft -f - <<'EOF'\n${s.script.trimEnd()}\nEOF`;
  }
}

export interface Failure {
  step: Step;
  message: string;
  /** Not run, because a step it needs failed or was not run. */
  skipped?: boolean;
}

type IpStep = Extract<Step, { kind: 'ip' }>;
type Group = { kind: 'batch'; ns: string | null; steps: IpStep[] } | { kind: 'single'; step: Step };

/**
 * Consecutive ip steps of one namespace share a batch, unless a step needs one of the steps
 * already in it: then whether it runs depends on how that one went, so it starts a new batch.
 */
function groupSteps(steps: Step[]): Group[] {
  const groups: Group[] = [];
  for (const s of steps) {
    const last = groups[groups.length - 1];
    const dependsOnLast = last?.kind === 'batch' && (s.needs ?? []).some((n) => last.steps.some((t) => t.id === n));
    if (s.kind === 'ip' && last?.kind === 'batch' && last.ns === s.ns && !dependsOnLast) last.steps.push(s);
    else if (s.kind === 'ip') groups.push({ kind: 'batch', ns: s.ns, steps: [s] });
    else groups.push({ kind: 'single', step: s });
  }
  return groups;
}

/** Parse `ip -batch` stderr: "Command failed -:N" closes the message lines about line N. */
export function parseBatchErrors(stderr: string): Map<number, string> {
  const out = new Map<number, string>();
  let msg: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^Command failed -:(\d+)\s*$/.exec(line.trim());
    if (m) {
      out.set(Number(m[1]), msg.join(' ').trim() || 'failed');
      msg = [];
    } else if (line.trim()) msg.push(line.trim());
  }
  return out;
}

async function runSingle(io: Io, s: Step): Promise<void> {
  const fs = io.fs ?? realFiles;
  switch (s.kind) {
    case 'write':
      return fs.write(s.path, s.content, s.mode);
    case 'remove':
      return s.dir ? fs.removeDirIfEmpty(s.path) : fs.remove(s.path);
    case 'kill-ns-pids':
      return killNsPids(io, s.ns);
    case 'sysctl':
      await io.run([...(s.ns ? ['ip', 'netns', 'exec', s.ns] : []), 'sysctl', '-q', '-w', `${s.key}=${s.value}`]);
      return;
    case 'nft':
      await io.run([...(s.ns ? ['ip', 'netns', 'exec', s.ns] : []), 'nft', '-f', '-'], { input: s.script });
      return;
    case 'ip':
      await io.run(['ip', ...(s.ns ? ['-n', s.ns] : []), ...s.args]);
  }
}

export async function nsPids(io: Io, ns: string): Promise<number[]> {
  const r = await io.run(['ip', 'netns', 'pids', ns], { allowFail: true });
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => n > 0 && n !== process.pid);
}

/** Stop every process in the namespace: SIGTERM, SIGKILL after the grace time, and check that none is left. */
export async function killNsPids(io: Io, ns: string, graceMs = 5000): Promise<void> {
  const pids = await nsPids(io, ns);
  if (!pids.length) return;
  await terminate(pids, { graceMs });
  // a process may have forked into the namespace meanwhile: those get SIGKILL at once
  const gone = async () => {
    const left = await nsPids(io, ns);
    if (!left.length) return true;
    await terminate(left, { signal: 'SIGKILL', graceMs: 0 });
    return undefined;
  };
  if (!(await until(gone, { intervalMs: 25, timeoutMs: 2000 })))
    throw new Error(`processes still in ${ns} after SIGKILL: ${(await nsPids(io, ns)).join(', ')}`);
}

const messageOf = (e: unknown) => (e instanceof CommandError ? firstLine(e.result.stderr) : (e as Error).message);

/**
 * Run groups of steps. Returns the steps that completed, and the failures.
 * stopOnFailure: stop at the first failure (atomic mode); otherwise run everything (-force),
 * except the steps that need a step that failed or was not run.
 */
async function runGroups(
  io: Io,
  steps: Step[],
  stopOnFailure: boolean,
): Promise<{ done: Step[]; failures: Failure[] }> {
  const done: Step[] = [];
  const failures: Failure[] = [];
  const broken = new Map<string, string>(); // id of a failed or skipped step -> its title
  const fail = (s: Step, message: string, skipped = false) => {
    failures.push({ step: s, message, ...(skipped ? { skipped } : {}) });
    if (s.id) broken.set(s.id, s.title);
  };
  /** The title of a needed step that failed or was not run. */
  const blockedBy = (s: Step) => (s.needs ?? []).map((n) => broken.get(n)).find((t) => t !== undefined);
  for (const g of groupSteps(steps)) {
    if (g.kind === 'single') {
      const b = blockedBy(g.step);
      if (b !== undefined) {
        fail(g.step, `not run: it needs "${b}"`, true);
        continue;
      }
      try {
        await runSingle(io, g.step);
        done.push(g.step);
      } catch (e) {
        fail(g.step, messageOf(e));
        if (stopOnFailure) return { done, failures };
      }
      continue;
    }
    const run: IpStep[] = [];
    for (const s of g.steps) {
      const b = blockedBy(s);
      if (b !== undefined) fail(s, `not run: it needs "${b}"`, true);
      else run.push(s);
    }
    if (!run.length) continue;
    const argv = ['ip', ...(g.ns ? ['-n', g.ns] : []), ...(stopOnFailure ? [] : ['-force']), '-batch', '-'];
    const r = await io.run(argv, {
      input: run.map((s) => s.args.map(quoteBatchArg).join(' ')).join('\n') + '\n',
      allowFail: true,
    });
    if (r.code === 0) {
      done.push(...run);
      continue;
    }
    const errs = parseBatchErrors(r.stderr);
    if (!errs.size) {
      // ip itself failed (e.g. the namespace is gone): nothing in this batch ran
      if (stopOnFailure) {
        fail(run[0]!, firstLine(r.stderr) || `ip exited ${r.code}`);
        return { done, failures };
      }
      for (const s of run) fail(s, firstLine(r.stderr) || `ip exited ${r.code}`);
      continue;
    }
    run.forEach((s, i) => {
      const err = errs.get(i + 1);
      if (err !== undefined) fail(s, err);
      else if (!stopOnFailure || i + 1 < Math.min(...errs.keys())) done.push(s);
    });
    if (stopOnFailure) return { done, failures };
  }
  return { done, failures };
}

export interface ApplyResult {
  done: Step[];
}

/** All or nothing: on failure, undo what was done in reverse order and throw. */
export async function applyAtomic(io: Io, steps: Step[]): Promise<ApplyResult> {
  const { done, failures } = await runGroups(io, steps, true);
  if (!failures.length) return { done };
  const failed = failures[0]!;
  throw await rollBack(io, done, `${failed.step.title} failed (${stepCommand(failed.step)}: ${failed.message})`);
}

/** Undo steps done, in reverse order; the error to throw says what happened (`what`) and how the undo went. */
export async function rollBack(io: Io, done: Step[], what: string): Promise<OobError> {
  const undo = [...done].reverse().flatMap((s) => s.undo);
  const u = await runGroups(io, undo, false);
  if (!u.failures.length)
    return new OobError(
      'rolledBack',
      `${what}; rolled back the ${done.length} step(s) already done: the system is as before`,
    );
  return new OobError(
    'rollbackIncomplete',
    `${what}; the rollback did not finish: ${u.failures.length} undo step(s) failed, the system is partly changed`,
    [
      ...u.failures.map((f) => `still to undo: ${stepCommand(f.step)}   (${f.message})`),
      'run the commands above by hand, or "oob down" for this profile, to finish the cleanup',
    ],
  );
}

/** Do everything possible and report what could not be done (for `down`, the way back). */
export async function applyBestEffort(io: Io, steps: Step[]): Promise<Failure[]> {
  return (await runGroups(io, steps, false)).failures;
}
