// Reading profiles from the profile directory: the only part of profile handling that touches disk.
import { promises as fsp } from 'node:fs';
import { PROFILE_SUFFIX, profileFile, resolvePaths } from '../state/layout.js';
import { OobError } from '../errors.js';
import { checkProfileName } from './names.js';
import { parseProfile, ProfileProblems } from './parse.js';
import type { Profile } from './types.js';
import { resolveFromUnits } from './units.js';

export async function listProfiles(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir)).filter((f) => f.endsWith(PROFILE_SUFFIX)).map((f) => f.slice(0, -PROFILE_SUFFIX.length)).sort();
  } catch {
    return [];
  }
}

/**
 * Its commands run as root, so a profile that someone else could have written is refused:
 * it must be owned by root (or by the user running oob) and not group- or world-writable.
 */
export function checkOwnership(file: string, st: { uid: number; mode: number }, euid: number): void {
  if (st.uid !== 0 && st.uid !== euid)
    throw new OobError('permission', `${file}: owned by uid ${st.uid}, not root: its commands would run as root; fix with: chown root:root ${file}`);
  if (st.mode & 0o022)
    throw new OobError('permission', `${file}: writable by ${st.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(st.mode & 0o777).toString(8)}): its commands run as root; fix with: chmod go-w ${file}`);
}

/**
 * The profile, validated, its presets expanded and its from = units read. The runtime directory
 * (where the sshd preset keeps its pidfile) is the one every command resolves ($OOB_RUNTIME_DIR,
 * else /run/oob) unless given.
 */
export async function loadProfile(dir: string, name: string, opts: { runtimeDir?: string } = {}): Promise<Profile> {
  const nameErr = checkProfileName(name);
  if (nameErr) throw new OobError('usage', nameErr);
  const file = profileFile(dir, name);
  let text: string;
  try {
    const st = await fsp.stat(file);
    checkOwnership(file, st, process.geteuid?.() ?? 0);
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof OobError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const have = await listProfiles(dir);
      throw new OobError('noProfile', `no profile "${name}": ${file} does not exist; ${have.length ? `profiles in ${dir}: ${have.join(', ')}` : `${dir} holds no profiles (start from profiles/mgmt.ini, or use --profile-dir)`}`);
    }
    if (code === 'EACCES') throw new OobError('permission', `${file}: cannot read it (run as root)`);
    throw new OobError('noProfile', `${file}: cannot read it: ${(e as Error).message}`);
  }
  const parsed = parseProfile(name, file, text, { runtimeDir: opts.runtimeDir ?? resolvePaths({}, process.env).runtimeDir });
  if (parsed instanceof ProfileProblems) {
    const lines = parsed.lines();
    throw new OobError('badProfile', lines[0]!, lines.slice(1));
  }
  return resolveFromUnits(parsed);
}
