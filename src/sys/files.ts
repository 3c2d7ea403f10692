// Files, written so that a reader never sees half of one: a temp file in the same directory,
// fsync, rename. And reads that say "absent" instead of throwing.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/** Write a file atomically: a temp file in the same directory, fsync, rename. */
export async function writeFileAtomic(file: string, data: string, mode = 0o644): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fh = await fsp.open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
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
export async function readVersionedJson<T extends { version: number }>(file: string, version: number): Promise<T | undefined> {
  const text = await readFileOr(file, undefined);
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as T;
    return v.version === version ? v : undefined;
  } catch {
    return undefined;
  }
}
