// Apply a plan: consecutive `ip` steps for the same namespace go to one `ip -batch` process.
// Atomic mode: at the first failure, undo every completed step in reverse order.
// Best-effort mode (down): go on past failures and report each one.
import { promises as fsp } from 'node:fs';
import { OobError } from '../errors.js';
import { writeFileAtomic } from '../sys/files.js';
import type { Io } from '../sys/io.js';
import { CommandError, firstLine } from '../sys/run.js';
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
  }
}

export interface Failure {
  step: Step;
  message: string;
}

type Group = { kind: 'batch'; ns: string | null; steps: Extract<Step, { kind: 'ip' }>[] } | { kind: 'single'; step: Step };

function groupSteps(steps: Step[]): Group[] {
  const groups: Group[] = [];
  for (const s of steps) {
    const last = groups[groups.length - 1];
    if (s.kind === 'ip' && last?.kind === 'batch' && last.ns === s.ns) last.steps.push(s);
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

export interface ApplyHooks {
  /** Test hook: make the k-th step (1-based, over the whole plan) fail for real. */
  failAtStep?: number;
}

async function runSingle(io: Io, s: Step): Promise<void> {
  switch (s.kind) {
    case 'write':
      await writeFileAtomic(s.path, s.content, s.mode);
      return;
    case 'remove':
      try {
        if (s.dir) await fsp.rmdir(s.path);
        else await fsp.rm(s.path, { force: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTEMPTY') throw e;
      }
      return;
    case 'kill-ns-pids':
      await killNsPids(io, s.ns);
      return;
    case 'ip':
      await io.run(['ip', ...(s.ns ? ['-n', s.ns] : []), ...s.args]);
  }
}

export async function nsPids(io: Io, ns: string): Promise<number[]> {
  const r = await io.run(['ip', 'netns', 'pids', ns], { allowFail: true });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number).filter((n) => n > 0 && n !== process.pid);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function killNsPids(io: Io, ns: string, graceMs = 5000): Promise<void> {
  let pids = await nsPids(io, ns);
  if (!pids.length) return;
  for (const p of pids) try { process.kill(p, 'SIGTERM'); } catch { /* already gone */ }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    pids = pids.filter(alive);
    if (!pids.length) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  for (const p of (await nsPids(io, ns))) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  const left = await waitGone(io, ns, 2000);
  if (left.length) throw new Error(`processes still in ${ns} after SIGKILL: ${left.join(', ')}`);
}

async function waitGone(io: Io, ns: string, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = await nsPids(io, ns);
    if (!left.length || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Run groups of steps. Returns the steps that completed, and the failures.
 * stopOnFailure: stop at the first failure (atomic mode); otherwise run everything (-force).
 */
async function runGroups(io: Io, steps: Step[], stopOnFailure: boolean, hooks: ApplyHooks, offset = 0): Promise<{ done: Step[]; failures: Failure[] }> {
  const done: Step[] = [];
  const failures: Failure[] = [];
  let index = offset;
  for (const g of groupSteps(steps)) {
    if (g.kind === 'single') {
      index++;
      try {
        if (hooks.failAtStep === index) throw new Error('fault injected by OOB_TEST_FAIL_STEP');
        await runSingle(io, g.step);
        done.push(g.step);
      } catch (e) {
        failures.push({ step: g.step, message: e instanceof CommandError ? firstLine(e.result.stderr) : (e as Error).message });
        if (stopOnFailure) return { done, failures };
      }
      continue;
    }
    const lines = g.steps.map((s, i) =>
      hooks.failAtStep === index + i + 1 ? 'link set dev oob-fault-injected up' : s.args.map(quoteBatchArg).join(' '),
    );
    index += g.steps.length;
    const argv = ['ip', ...(g.ns ? ['-n', g.ns] : []), ...(stopOnFailure ? [] : ['-force']), '-batch', '-'];
    const r = await io.run(argv, { input: lines.join('\n') + '\n', allowFail: true });
    if (r.code === 0) {
      done.push(...g.steps);
      continue;
    }
    const errs = parseBatchErrors(r.stderr);
    if (!errs.size) {
      // ip itself failed (e.g. the namespace is gone): nothing in this batch ran
      for (const s of g.steps) failures.push({ step: s, message: firstLine(r.stderr) || `ip exited ${r.code}` });
      if (stopOnFailure) return { done, failures: failures.slice(0, 1) };
      continue;
    }
    g.steps.forEach((s, i) => {
      const err = errs.get(i + 1);
      if (err !== undefined) failures.push({ step: s, message: err });
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
export async function applyAtomic(io: Io, steps: Step[], hooks: ApplyHooks = {}): Promise<ApplyResult> {
  const { done, failures } = await runGroups(io, steps, true, hooks);
  if (!failures.length) return { done };
  const failed = failures[0]!;
  const undo = [...done].reverse().flatMap((s) => s.undo);
  const u = await runGroups(io, undo, false, {});
  const what = `${failed.step.title} failed (${stepCommand(failed.step)}: ${failed.message})`;
  if (!u.failures.length)
    throw new OobError('rolledBack', `${what}; rolled back the ${done.length} step(s) already done: the system is as before`);
  throw new OobError('rollbackIncomplete', `${what}; the rollback did not finish: ${u.failures.length} undo step(s) failed, the system is partly changed`, [
    ...u.failures.map((f) => `still to undo: ${stepCommand(f.step)}   (${f.message})`),
    'run the commands above by hand, or "oob down" for this profile, to finish the cleanup',
  ]);
}

/** Do everything possible and report what could not be done (for `down`, the way back). */
export async function applyBestEffort(io: Io, steps: Step[]): Promise<Failure[]> {
  return (await runGroups(io, steps, false, {})).failures;
}
