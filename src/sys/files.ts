// Files, written so that a reader never sees half of one: a temp file in the same directory,
// fsync, rename. And reads that say "absent" instead of throwing.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { FileEffects } from './io.js';

/** The suffix of writeFileAtomic's temp files: FILE.tmp-PID-MS. */
export const TMP_INFIX = '.tmp-';
const TMP_RE = /\.tmp-(\d+)-\d+$/;

/** Write a file atomically: a temp file in the same directory, fsync, rename. */
export async function writeFileAtomic(file: string, data: string, mode = 0o644): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}${TMP_INFIX}${process.pid}-${Date.now()}`;
  const fh = await fsp.open(tmp, 'w', mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    // a full disk (ENOSPC) fails the write, not the open: the temp file is ours to remove, or every
    // failed write of a supervisor's state would leave one more behind
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

export async function readFileOr<T>(file: string, fallback: T): Promise<string | T> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw e;
  }
}

/** Read one of oob's own JSON files (record, state): undefined when absent, unreadable or of another version. */
export async function readVersionedJson<T extends { version: number }>(
  file: string,
  version: number,
): Promise<T | undefined> {
  const text = await readFileOr(file, undefined);
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as T;
    return v.version === version ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The real file effects. */
export const realFiles: FileEffects = {
  write: writeFileAtomic,
  remove: (file) => fsp.rm(file, { force: true }),
  async removeDirIfEmpty(dir) {
    try {
      await fsp.rmdir(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    }
  },
};

/**
 * Remove the temp files that writeFileAtomic left in dir when its process was killed between
 * open and rename (the writer's pid is in the name; a live writer's files are left alone).
 * Returns the names removed.
 */
export async function removeStaleTempFiles(dir: string, alive: (pid: number) => boolean): Promise<string[]> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const out: string[] = [];
  for (const n of names) {
    const m = TMP_RE.exec(n);
    if (!m || alive(Number(m[1]))) continue;
    await fsp.rm(path.join(dir, n), { force: true });
    out.push(n);
  }
  return out;
}
