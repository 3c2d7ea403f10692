// The operations behind the commands: load -> lock -> observe -> plan -> apply.
// The supervisor (oob run) and enable reuse these, so there is one way to bring a profile up.
import { promises as fsp } from 'node:fs';
import { applyAtomic, applyBestEffort, stepCommand, type ApplyHooks } from './apply.js';
import { OobError } from './errors.js';
import type { Io } from './io.js';
import { withLock } from './lock.js';
import { findNicElsewhere, observe, planPaths } from './net/observe.js';
import { planDown } from './plan/down.js';
import type { Step } from './plan/types.js';
import { describeNic, planUp, selects } from './plan/up.js';
import { loadProfile } from './profile/load.js';
import type { Profile } from './profile/types.js';

export interface UpOpts {
  force?: boolean;
  waitMs?: number;
  hooks?: ApplyHooks;
}

export interface UpResult {
  profile: Profile;
  steps: Step[];
  notes: string[];
  nicName: string;
  addresses: string[];
  gateways: string[];
}

export function requireRoot(what: string): void {
  if (process.geteuid && process.geteuid() !== 0)
    throw new OobError('permission', `${what} must run as root (it changes network namespaces and interfaces): try sudo oob ${what.replace(/^oob /, '')}`);
}

const hooksFromEnv = (env: NodeJS.ProcessEnv): ApplyHooks => (env.OOB_TEST_FAIL_STEP ? { failAtStep: Number(env.OOB_TEST_FAIL_STEP) } : {});

/** Plan `up` for a loaded profile against the host as it is now. */
export async function planProfileUp(io: Io, profile: Profile, force: boolean) {
  const state = await observe(io, profile.name);
  try {
    return planUp(profile, state, planPaths(io, profile.name), { force, hostPid: io.hostPid, now: new Date().toISOString() });
  } catch (e) {
    if (e instanceof OobError && e.code === 'precondition' && e.message.includes('was not found in the host namespace')) {
      const where = await findNicElsewhere(io, (l) => selects(profile, l as never), profile.name);
      if (where) throw new OobError('precondition', `${describeNic(profile)} is in another network namespace, ${where}: oob takes a NIC only from the host; move it back first`);
    }
    throw e;
  }
}

export async function upProfile(io: Io, profile: Profile, opts: UpOpts = {}): Promise<UpResult> {
  return withLock(io.paths.runtimeDir, profile.name, opts.waitMs ?? 30_000, async () => {
    const plan = await planProfileUp(io, profile, opts.force ?? false);
    if (plan.steps.length) await applyAtomic(io, plan.steps, opts.hooks ?? hooksFromEnv(io.env));
    return { profile, ...plan };
  });
}

/** Validate every named profile before touching anything: a bad one stops them all. */
export async function loadAll(io: Io, names: string[]): Promise<Profile[]> {
  const out: Profile[] = [];
  for (const n of names) out.push(await loadProfile(io.paths.profileDir, n));
  return out;
}

export interface DownResult {
  name: string;
  steps: Step[];
  notes: string[];
}

export async function downProfile(io: Io, name: string, opts: { waitMs?: number; force?: boolean } = {}): Promise<DownResult> {
  return withLock(io.paths.runtimeDir, name, opts.waitMs ?? 30_000, async () => {
    const state = await observe(io, name);
    if (state.record && state.record.hostNetns !== state.hostNetns && !opts.force)
      throw new OobError('precondition', `${name}'s NIC came from another network namespace (${state.record.hostNetns}) than the one oob runs in now (${state.hostNetns}): run oob down from there, or --force to bring it here`);
    const paths = planPaths(io, name);
    const plan = planDown(name, state, paths, { hostPid: io.hostPid });
    const failures = await applyBestEffort(io, plan.steps);
    await fsp.rmdir(paths.runtimeProfileDir).catch(() => {});
    if (failures.length)
      throw new OobError('rollbackIncomplete', `${name}: ${failures.length} of ${plan.steps.length} step(s) of down failed; the rest was done`, [
        ...failures.map((f) => `failed: ${stepCommand(f.step)}   (${f.message})`),
        'fix the cause and run "oob down" again: it only does what is still left',
      ]);
    return { name, ...plan };
  });
}
