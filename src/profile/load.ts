// Reading profiles from the profile directory: the only part of profile handling that touches disk.
import { constants as fsConstants, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { PROFILE_SUFFIX, profileFile, resolvePaths } from '../state/layout.js';
import { OobError } from '../errors.js';
import { checkProfileName } from './names.js';
import { parseProfile, ProfileProblems } from './parse.js';
import type { Profile } from './types.js';
import { resolveFromUnits } from './units.js';

export async function listProfiles(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir))
      .filter((f) => f.endsWith(PROFILE_SUFFIX))
      .map((f) => f.slice(0, -PROFILE_SUFFIX.length))
      .sort();
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
    throw new OobError(
      'permission',
      `${file}: owned by uid ${st.uid}, not root: its commands would run as root; fix with: chown root:root ${file}`,
    );
  if (st.mode & 0o022)
    throw new OobError(
      'permission',
      `${file}: writable by ${st.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(st.mode & 0o777).toString(8)}): its commands run as root; fix with: chmod go-w ${file}`,
    );
}

/** Larger than this is not a profile (a profile is a few hundred bytes). */
export const MAX_PROFILE_BYTES = 1 << 20;

const kindOf = (st: Stats) =>
  st.isFIFO()
    ? 'a FIFO'
    : st.isSocket()
      ? 'a socket'
      : st.isCharacterDevice()
        ? 'a character device'
        : st.isBlockDevice()
          ? 'a block device'
          : st.isDirectory()
            ? 'a directory'
            : st.isSymbolicLink()
              ? 'a symbolic link'
              : 'not a regular file';

/**
 * A directory above a profile: if someone other than root (or the user running oob) owns it, or
 * it is group- or world-writable without the sticky bit, they could put another file in the
 * profile's place, and its commands run as root.
 */
export function checkDirectory(dir: string, st: { uid: number; mode: number }, euid: number): void {
  if (st.uid !== 0 && st.uid !== euid)
    throw new OobError(
      'permission',
      `${dir}: owned by uid ${st.uid}, not root: that user could replace the profiles below it, whose commands run as root; fix with: chown root ${dir}`,
    );
  if (st.mode & 0o022 && !(st.mode & 0o1000))
    throw new OobError(
      'permission',
      `${dir}: writable by ${st.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(st.mode & 0o7777).toString(8)}): another user could replace the profiles below it, whose commands run as root; fix with: chmod go-w ${dir}`,
    );
}

/** Every directory from dir up to /. */
const ancestors = (dir: string): string[] =>
  path.dirname(dir) === dir ? [dir] : [dir, ...ancestors(path.dirname(dir))];

/**
 * The directory checks of one run, shared by the profiles it loads (`oob status` reads every
 * profile of one directory: the same ancestors each time): each directory is looked at once per
 * run, and a directory refused is refused for every profile below it (the error is kept, not the
 * absence of one). One run only: a long-lived process (the supervisor) must not keep it, or a
 * directory made writable later would still pass.
 */
export interface DirChecks {
  /** lstat of a directory on the path as given: a symbolic link must be root's (or the user's). */
  link: Map<string, Promise<void>>;
  /** stat of a directory on the path as given or resolved: root's (or the user's), not writable by others. */
  dir: Map<string, Promise<void>>;
}

export const dirChecks = (): DirChecks => ({ link: new Map(), dir: new Map() });

/** The check of key, run once per DirChecks (its outcome, a refusal too, shared by every caller). */
function once(memo: Map<string, Promise<void>>, key: string, check: () => Promise<void>): Promise<void> {
  let p = memo.get(key);
  if (!p) memo.set(key, (p = check()));
  return p;
}

const checkLinkDir = async (d: string, euid: number) => {
  const l = await fsp.lstat(d);
  if (l.isSymbolicLink() && l.uid !== 0 && l.uid !== euid)
    throw new OobError(
      'permission',
      `${d}: a symbolic link owned by uid ${l.uid}: that user could point it elsewhere; fix with: chown -h root ${d}, or give the real directory`,
    );
};

/**
 * The path as given (its symbolic links must belong to root or to the user running oob) and the
 * path it resolves to must both run through directories only root (or that user) can change.
 */
async function checkPath(file: string, euid: number, checks: DirChecks): Promise<string> {
  const seen = new Set<string>();
  for (const d of ancestors(path.dirname(file))) await once(checks.link, d, () => checkLinkDir(d, euid));
  const real = await fsp.realpath(file).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP')
      throw new OobError('permission', `${file}: a loop of symbolic links: put the profile itself there`);
    throw e;
  });
  for (const d of [...ancestors(path.dirname(path.resolve(file))), ...ancestors(path.dirname(real))]) {
    if (seen.has(d)) continue;
    seen.add(d);
    await once(checks.dir, d, async () => checkDirectory(d, await fsp.stat(d), euid));
  }
  return real;
}

/**
 * The profile's text, read from one open descriptor that was checked (a regular file, owned by
 * root or the user running oob, not writable by others, not too large), never following a link
 * it has not checked, and never blocking on a FIFO or opening a device.
 */
export async function readProfileFile(
  file: string,
  euid = process.geteuid?.() ?? 0,
  checks: DirChecks = dirChecks(),
): Promise<string> {
  const l = await fsp.lstat(file);
  if (!l.isSymbolicLink() && !l.isFile())
    throw new OobError(
      'permission',
      `${file}: ${kindOf(l)}, not a regular file: a profile is a plain text file; put one there`,
    );
  // every link of a chain is checked, and the directories it lies in: a second link in a
  // directory another user owns would let that user point the profile at any file of root's
  // (a loop ends in checkPath's realpath: ELOOP)
  let hop = path.resolve(file);
  for (let link = l; link.isSymbolicLink(); link = await fsp.lstat(hop)) {
    if (link.uid !== 0 && link.uid !== euid)
      throw new OobError(
        'permission',
        `${hop}: a symbolic link owned by uid ${link.uid}: that user could point it at any file; fix with: chown -h root ${hop}, or put the profile itself there`,
      );
    await checkPath(hop, euid, checks);
    hop = path.resolve(path.dirname(hop), await fsp.readlink(hop));
  }
  const real = await checkPath(file, euid, checks);
  let fh: FileHandle;
  try {
    fh = await fsp.open(
      real,
      fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY,
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP')
      throw new OobError(
        'permission',
        `${file}: changed into a symbolic link while it was read: check who can write ${path.dirname(real)}`,
      );
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile())
      throw new OobError(
        'permission',
        `${file}: ${kindOf(st)}, not a regular file: a profile is a plain text file; put one there`,
      );
    checkOwnership(file, st, euid);
    if (st.size > MAX_PROFILE_BYTES)
      throw new OobError(
        'badProfile',
        `${file}: ${st.size} bytes: a profile is a few hundred bytes of text (at most ${MAX_PROFILE_BYTES}); is this the right file?`,
      );
    const buf = Buffer.alloc(Math.min(st.size, MAX_PROFILE_BYTES) + 1);
    let len = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, len, buf.length - len, null);
      if (!bytesRead) break;
      len += bytesRead;
      if (len === buf.length)
        throw new OobError(
          'badProfile',
          `${file}: grows while it is read, past ${buf.length - 1} bytes: a profile is a plain text file`,
        );
    }
    const bytes = buf.subarray(0, len);
    const nul = bytes.indexOf(0);
    if (nul >= 0)
      throw new OobError(
        'badProfile',
        `${file}: a binary file (a NUL byte at offset ${nul}): a profile is plain text; is this the right file?`,
      );
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new OobError('badProfile', `${file}: not UTF-8 text: a profile is plain text; is this the right file?`);
    }
  } finally {
    await fh.close();
  }
}

/**
 * The profile, validated, its presets expanded and its from = units read. The runtime directory
 * (where the sshd preset keeps its pidfile) is the one every command resolves ($OOB_RUNTIME_DIR,
 * else /run/oob) unless given. opts.checks: the directory checks shared by the loads of one run.
 */
export async function loadProfile(
  dir: string,
  name: string,
  opts: { runtimeDir?: string; file?: string; checks?: DirChecks } = {},
): Promise<Profile> {
  const nameErr = checkProfileName(name);
  if (nameErr) throw new OobError('usage', nameErr);
  // opts.file: a profile NAME read from elsewhere (oob check NAME --file F: a file not yet in place)
  const file = opts.file ?? profileFile(dir, name);
  let text: string;
  try {
    text = await readProfileFile(file, undefined, opts.checks);
  } catch (e) {
    if (e instanceof OobError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && opts.file) throw new OobError('noProfile', `${file} does not exist`);
    if (code === 'ENOENT') {
      const have = await listProfiles(dir);
      throw new OobError(
        'noProfile',
        `no profile "${name}": ${file} does not exist; ${have.length ? `profiles in ${dir}: ${have.join(', ')}` : `${dir} holds no profiles (start from profiles/mgmt.ini, or use --profile-dir)`}`,
      );
    }
    if (code === 'EACCES') throw new OobError('permission', `${file}: cannot read it (run as root)`);
    throw new OobError('noProfile', `${file}: cannot read it: ${(e as Error).message}`);
  }
  const parsed = parseProfile(name, file, text, {
    runtimeDir: opts.runtimeDir ?? resolvePaths({}, process.env).runtimeDir,
  });
  if (parsed instanceof ProfileProblems) {
    const lines = parsed.lines();
    throw new OobError('badProfile', lines[0]!, lines.slice(1));
  }
  return resolveFromUnits(parsed);
}
