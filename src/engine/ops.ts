// The operations behind the commands: load -> lock -> observe -> plan -> apply.
// Several profiles in one call share one observation of the host and one merged plan, so the
// host-side work of all of them runs in one `ip -batch`; the call is all or nothing.
// The supervisor (oob run) reuses these, so there is one way to bring a profile up.
import { removeDhcpFiles } from '../state/lease.js';
import { promises as fsp } from 'node:fs';
import { applyAtomic, applyBestEffort, rollBack, stepCommand } from './apply.js';
import { OobError } from '../errors.js';
import { removeStaleTempFiles } from '../sys/files.js';
import type { Io } from '../sys/io.js';
import { acquireLock, type Lock } from './lock.js';
import { describeNic, nicMatches, sharedNics, throwIfShared } from '../observe/nic.js';
import { findNicElsewhere, observeHostAndProfiles } from '../observe/observe.js';
import { runtimePaths } from '../state/layout.js';
import { readState } from '../state/supervisor.js';
import { sameProcess } from '../sys/proc.js';
import { FORGET, lostLine, planDown } from '../plan/down.js';
import { downRank, mergePlans, upRank } from '../plan/merge.js';
import { PlanRefusal, type Step, type UpPlan } from '../plan/types.js';
import { planUp } from '../plan/up.js';
import { planLinksDown, planLinksUp } from '../plan/links.js';
import { planNatDown, planNatUp } from '../plan/nat.js';
import { observeNat, observeNatForDown } from '../observe/nat.js';
import { dirChecks, loadProfile } from '../profile/load.js';
import { hasNic, type Profile } from '../profile/types.js';

export interface UpOpts {
  force?: boolean;
  waitMs?: number;
}

export interface UpResult extends UpPlan {
  profile: Profile;
}

/** Hold the locks of every named profile (in a fixed order, so two calls cannot deadlock). */
export async function withLocks<T>(io: Io, names: string[], waitMs: number, fn: () => Promise<T>): Promise<T> {
  const held: Lock[] = [];
  try {
    for (const n of [...new Set(names)].sort()) held.push(await acquireLock(io.paths.runtimeDir, n, waitMs));
    return await fn();
  } finally {
    for (const l of held.reverse()) await l.release();
  }
}

/** Plan `up` for loaded profiles against the host as it is now (one host observation for all). */
export async function planProfilesUp(io: Io, profiles: Profile[], force: boolean): Promise<UpResult[]> {
  const seen = new Map<string, string>();
  const withNic = profiles.filter(hasNic);
  for (const p of withNic) {
    const key = JSON.stringify(p.iface.nic);
    if (seen.has(key))
      throw new OobError(
        'usage',
        `${p.name} and ${seen.get(key)} select the same NIC (${describeNic(p.iface.nic)}): a NIC can serve one profile`,
      );
    seen.set(key, p.name);
  }
  const { base, states } = await observeHostAndProfiles(
    io,
    profiles.map((p) => p.name),
  );
  throwIfShared(sharedNics(withNic, [...base.host.links, ...states.flatMap((s) => s.ns?.links ?? [])]));
  const now = new Date().toISOString();
  const out: UpResult[] = [];
  for (const [i, profile] of profiles.entries()) {
    try {
      out.push({
        profile,
        ...planUp(profile, states[i]!, runtimePaths(io.paths, profile.name), { force, hostPid: io.hostPid, now }),
      });
    } catch (e) {
      if (e instanceof PlanRefusal && e.reason === 'nicNotInHost' && hasNic(profile)) {
        const sel = profile.iface.nic;
        const where = await findNicElsewhere(io, (l) => nicMatches(sel, l), profile.name);
        if (where)
          throw new OobError(
            'precondition',
            `${describeNic(sel)} is in another network namespace, ${where}: oob takes a NIC only from the host; move it back first`,
          );
      }
      throw e;
    }
  }
  // the links go before the DNS file (a write: the last phase of a merged plan), so that a bridge one
  // profile creates is there before another profile's veth becomes its port
  planLinksUp(profiles, states).forEach((steps, i) => {
    const dns = runtimePaths(io.paths, profiles[i]!.name).dnsFile;
    const own = out[i]!.steps;
    const at = own.findIndex((st) => (st.kind === 'write' || st.kind === 'remove') && st.path === dns);
    own.splice(at < 0 ? own.length : at, 0, ...steps);
  });
  // [nat]/[forward]: after the links (the namespace exists by then)
  const nats = await Promise.all(
    profiles.map((p, i) =>
      observeNat(io, p.name, p, states[i]!.namespaces.includes(p.name) && states[i]!.nsStale === undefined, base.ssh),
    ),
  );
  planNatUp(
    profiles,
    nats,
    profiles.map((p) => runtimePaths(io.paths, p.name)),
    force,
  ).forEach((n, i) => {
    const r = out[i]!;
    r.steps.push(...n.steps);
    r.notes.push(...n.notes);
    r.overridden = [...(r.overridden ?? []), ...n.overridden];
  });
  return out;
}

export const planProfileUp = async (io: Io, profile: Profile, force: boolean) =>
  (await planProfilesUp(io, [profile], force))[0]!;

/** Bring profiles up: all of them, or (on any failure) none. */
export async function upProfiles(io: Io, profiles: Profile[], opts: UpOpts = {}): Promise<UpResult[]> {
  const names = profiles.map((p) => p.name);
  return withLocks(io, names, opts.waitMs ?? 30_000, async () => {
    await removeLeftovers(io, names);
    const plans = await planProfilesUp(io, profiles, opts.force ?? false);
    const steps = mergePlans(
      plans.map((p) => p.steps),
      upRank,
    );
    if (!steps.length) return plans;
    try {
      const { done } = await applyAtomic(io, steps);
      // Converged, or rolled back: what the kernel did besides (an address that took others with
      // it, a route that went with an address) shows up as steps still to do.
      const left = (await planProfilesUp(io, profiles, opts.force ?? false)).flatMap((p) =>
        p.steps.map((s) => `${p.profile.name}: ${s.title}`),
      );
      if (left.length)
        throw await rollBack(
          io,
          done,
          `the ${steps.length} step(s) ran but the result is not the profile's (still to do: ${left.join('; ')})`,
        );
    } catch (e) {
      await removeEmptyRuntimeDirs(io, names);
      throw e;
    }
    return plans;
  });
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** What an oob killed midway left of its own: temp files of atomic writes (a stale namespace entry is the planners'). */
async function removeLeftovers(io: Io, names: string[]): Promise<void> {
  for (const n of names) {
    const p = runtimePaths(io.paths, n);
    for (const dir of [p.dir, p.dnsDir])
      for (const f of await removeStaleTempFiles(dir, pidAlive))
        io.log.info(`${n}: removed ${f}, left in ${dir} by an oob that was killed while writing it`);
  }
}

/**
 * The state file of a supervisor that was killed (SIGKILL, OOM) outlives it: once down has taken the
 * profile down, a state file whose supervisor process is gone (its pid dead, or reused by another
 * process) is a leftover, and would keep the runtime directory forever. A live supervisor's is kept
 * (it notices the namespace is gone and removes its own).
 */
async function removeDeadSupervisorState(io: Io, names: string[]): Promise<void> {
  for (const n of names) {
    const st = await readState(io.paths, n).catch(() => undefined);
    if (!st?.supervisor?.pid || (await sameProcess(st.supervisor.pid, st.supervisor.pidStart))) continue;
    await fsp.rm(runtimePaths(io.paths, n).stateFile, { force: true });
    io.log.info(`${n}: removed the state file of supervisor pid ${st.supervisor.pid}, which is gone`);
  }
}

/** The runtime directories of the profiles, if empty (after a rollback or a down). */
async function removeEmptyRuntimeDirs(io: Io, names: string[]): Promise<void> {
  await Promise.all(names.map((n) => fsp.rmdir(runtimePaths(io.paths, n).dir).catch(() => {})));
}

export const upProfile = async (io: Io, profile: Profile, opts: UpOpts = {}) =>
  (await upProfiles(io, [profile], opts))[0]!;

/** Validate every named profile before touching anything: a bad one stops them all. */
export async function loadAll(io: Io, names: string[]): Promise<Profile[]> {
  const out: Profile[] = [];
  const checks = dirChecks();
  for (const n of names) out.push(await loadProfile(io.paths.profileDir, n, { checks }));
  return out;
}

export interface DownResult {
  name: string;
  steps: Step[];
  notes: string[];
  left: string[];
}

/** Take profiles down from their records (the profiles themselves are not needed). Best effort: down is the way back. */
export async function downProfiles(
  io: Io,
  names: string[],
  opts: { waitMs?: number; force?: boolean } = {},
): Promise<DownResult[]> {
  return withLocks(io, names, opts.waitMs ?? 30_000, async () => {
    await removeLeftovers(io, names);
    const { states } = await observeHostAndProfiles(io, names);
    const plans = names.map((name, i) => {
      const state = states[i]!;
      if (state.record && state.record.hostNetns !== state.hostNetns && !opts.force)
        throw new OobError(
          'precondition',
          `${name}'s NIC came from another network namespace (${state.record.hostNetns}) than the one oob runs in now (${state.hostNetns}): run oob down from there, or --force to bring it here`,
        );
      return { name, ...planDown(name, state, runtimePaths(io.paths, name), { hostPid: io.hostPid }) };
    });
    for (const p of plans)
      if (p.lost) {
        const mac = p.lost.mac;
        p.left.push(
          lostLine(p.name, p.lost, await findNicElsewhere(io, (l) => l.mac === mac || l.permaddr === mac, p.name)),
        );
      }
    // the links go first (after the processes): the veth's peer and oob's routes go with them
    planLinksDown(names, states).forEach((links, i) => {
      const at = plans[i]!.steps.findIndex((st) => st.kind !== 'kill-ns-pids');
      plans[i]!.steps.splice(at < 0 ? plans[i]!.steps.length : at, 0, ...links);
    });
    // oob's table in the host and the host's forwarding (the namespace's go with the namespace)
    const nats = await Promise.all(names.map((n) => observeNatForDown(io, n)));
    planNatDown(
      names,
      nats,
      names.map((n) => runtimePaths(io.paths, n)),
    ).forEach((st, i) => plans[i]!.steps.push(...st));
    const steps = mergePlans(
      plans.map((p) => p.steps),
      downRank,
    );
    const failures = await applyBestEffort(io, steps);
    // the DHCP client was in the namespace (its processes are ended with it): its files go too
    await Promise.all(names.map((n) => removeDhcpFiles(io.paths.runtimeDir, n)));
    if (!failures.length && plans.every((p) => !p.left.length)) await removeDeadSupervisorState(io, names);
    await removeEmptyRuntimeDirs(io, names);
    const left = plans.flatMap((p) => p.left.map((l) => `${p.name}: ${l}`));
    const failed = failures.filter((f) => !f.skipped);
    if (left.length || failures.length) {
      const kept = failures
        .filter((f) => f.step.id?.endsWith(`:${FORGET}`))
        .map((f) => f.step.id!.slice(0, -FORGET.length - 1));
      const first =
        left[0] ??
        `${names.join(', ')}: down did not finish: ${failed.length} of ${steps.length} step(s) failed${failures.length > failed.length ? `, ${failures.length - failed.length} not run because they need one of those` : ''}${kept.length ? `; the record of ${kept.join(', ')} is kept until the NIC is back and restored` : ''}`;
      throw new OobError('rollbackIncomplete', first, [
        ...left.slice(1),
        ...failures.map((f) => `${f.skipped ? 'not run' : 'failed'}: ${stepCommand(f.step)}   (${f.message})`),
        'fix the cause and run "oob down" again: it only does what is still left',
      ]);
    }
    return plans;
  });
}

export const downProfile = async (io: Io, name: string, opts: { waitMs?: number; force?: boolean } = {}) =>
  (await downProfiles(io, [name], opts))[0]!;
