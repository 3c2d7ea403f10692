// `oob enable|disable NAME --confirm` (issue 9): what the revert needs, saved in the pending record
// before anything changes, and the revert itself: every file enable or disable writes or removes
// (the profile, the template, the drop-in, the unmanaged rules) back byte for byte, the unit's
// enablement and its running state as they were. And the unit's start at boot: an unconfirmed
// enable found there (the machine rebooted inside the window) is reverted before anything comes up.
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { OobError } from '../errors.js';
import { readFileOr, writeFileAtomic } from '../sys/files.js';
import type { Io } from '../sys/io.js';
import {
  dropInPath,
  networkdRulePath,
  nmRulePath,
  pendingFile,
  profileFile,
  runtimePaths,
  templatePath,
  unitName,
} from '../state/layout.js';
import type { Pending, SavedFile, UnitBefore } from '../state/pending.js';
import { UNIT_JOB_MS } from './enable.js';

/** Every file enable or disable may write or remove for a profile: saved whole, restored whole. */
export function unitFilesOf(io: Io, name: string): Array<{ path: string; mode: number }> {
  return [
    { path: profileFile(io.paths.profileDir, name), mode: 0o600 },
    { path: templatePath, mode: 0o644 },
    { path: dropInPath(name), mode: 0o644 },
    { path: nmRulePath(name), mode: 0o644 },
    { path: networkdRulePath(name), mode: 0o644 },
  ];
}

const unitQuery = async (io: Io, verb: string, unit: string) =>
  (await io.run(['systemctl', verb, unit], { allowFail: true })).stdout.trim();

/** The files and the unit as they are now: what a revert puts back. */
export async function saveBefore(io: Io, name: string): Promise<UnitBefore> {
  const unit = unitName(name);
  const files: SavedFile[] = [];
  for (const f of unitFilesOf(io, name)) {
    const content = await readFileOr(f.path, null);
    const mode = content === null ? f.mode : (await fsp.stat(f.path)).mode & 0o777;
    files.push({ path: f.path, content, mode });
  }
  return {
    files,
    enabled: (await unitQuery(io, 'is-enabled', unit)) === 'enabled',
    active: (await unitQuery(io, 'is-active', unit)) === 'active',
    planeUp: existsSync(runtimePaths(io.paths, name).netnsFile),
  };
}

/** Put every saved file back as it was (removed when it was not there). Whether anything differed. */
export async function restoreFiles(files: SavedFile[]): Promise<boolean> {
  let changed = false;
  for (const f of files) {
    const cur = await readFileOr(f.path, null);
    if (cur === f.content) continue;
    changed = true;
    if (f.content === null) {
      await fsp.rm(f.path, { force: true });
      await fsp.rmdir(path.dirname(f.path)).catch(() => {}); // the drop-in's directory, when it is empty
    } else {
      await fsp.mkdir(path.dirname(f.path), { recursive: true, mode: 0o755 });
      await writeFileAtomic(f.path, f.content, f.mode);
    }
  }
  return changed;
}

const beforeOf = (p: Pending): UnitBefore => {
  if (!p.before) throw new OobError('internal', `${p.profile}: the pending ${p.what} has no saved files to revert to`);
  return p.before;
};

/**
 * Undo an enable or a disable in a running system: the files, the enablement, the running state
 * as they were. An enable of a profile that was not running is stopped first (the NIC goes back
 * with the config it was brought up with); one that ran is restarted on the old files.
 */
export async function undoUnitChange(io: Io, p: Pending): Promise<void> {
  const before = beforeOf(p);
  const unit = unitName(p.profile);
  const sys = (args: string[]) => io.run(['systemctl', ...args], { timeoutMs: UNIT_JOB_MS });
  if (!before.active) await sys(['stop', unit]);
  const changed = await restoreFiles(before.files);
  await sys(['daemon-reload']);
  await sys([before.enabled ? 'enable' : 'disable', unit]);
  const { downProfile, upProfile } = await import('../engine/ops.js');
  if (before.active) {
    if (changed || (await unitQuery(io, 'is-active', unit)) !== 'active') await sys(['restart', unit]);
  } else if (before.planeUp) {
    // it was up by hand (oob up), not by the unit: up again from the profile as it was
    const { loadProfile } = await import('../profile/load.js');
    await upProfile(io, await loadProfile(io.paths.profileDir, p.profile), { force: true });
  } else {
    await downProfile(io, p.profile); // the NIC back in the host, whatever the unit's stop left
  }
}

/** What the unit's start does about a pending change found there. */
export type BootVerdict = 'go' | 'stay-down' | 'restart';

/**
 * At the unit's start (`oob run NAME`, the boot path): an enable or disable whose worker is gone
 * (the machine rebooted inside the window, or the worker was killed) and that nobody confirmed is
 * reverted here, before anything comes up, and logged in one line. A first enable: its files go,
 * the unit is disabled and stays down (the NIC stays in the host). A re-enable: the files as they
 * were, and the unit starts again on them. A disable (found when the unit is started by hand):
 * enabled again, and it comes up.
 */
export async function revertUnitChangeAtBoot(io: Io, p: Pending): Promise<BootVerdict> {
  const before = beforeOf(p);
  const unit = unitName(p.profile);
  const changed = await restoreFiles(before.files);
  await io.run(['systemctl', 'daemon-reload'], { allowFail: true, timeoutMs: UNIT_JOB_MS });
  await io.run(['systemctl', before.enabled ? 'enable' : 'disable', unit], { allowFail: true });
  await fsp.rm(pendingFile(io.paths, p.profile), { force: true });
  const verdict: BootVerdict = !before.enabled ? 'stay-down' : changed && p.what === 'enable' ? 'restart' : 'go';
  io.log.warn(
    `${p.profile}: the ${p.what} --confirm of ${p.since} was never confirmed (its worker is gone: a reboot inside the window): reverted at start: ${
      verdict === 'stay-down'
        ? `its files removed or restored, ${unit} disabled, the plane not brought up`
        : verdict === 'restart'
          ? `the files as before the ${p.what}, ${unit} restarts on them`
          : `the files as before, ${unit} enabled again`
    }`,
  );
  return verdict;
}
