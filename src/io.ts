// Everything that touches the system goes through an Io, passed in as an argument.
// Tests build their own (a recording or failing runner, temp directories) instead of mocking modules.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { spawnRunner, type Runner } from './runner.js';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface Paths {
  profileDir: string;
  runtimeDir: string;
  /** Where `ip netns exec` looks for per-namespace /etc files. */
  netnsEtcDir: string;
  /** Where `ip netns add` mounts namespaces. */
  netnsRunDir: string;
}

export interface Io {
  run: Runner;
  log: Logger;
  paths: Paths;
  /** The pid whose network namespace is "the host" (the namespace oob itself runs in). */
  hostPid: number;
  env: NodeJS.ProcessEnv;
}

export function resolvePaths(opts: { profileDir?: string | undefined }, env: NodeJS.ProcessEnv): Paths {
  return {
    profileDir: path.resolve(opts.profileDir ?? env.OOB_PROFILE_DIR ?? '/etc/oob/profiles'),
    runtimeDir: path.resolve(env.OOB_RUNTIME_DIR ?? '/run/oob'),
    netnsEtcDir: '/etc/netns',
    netnsRunDir: '/run/netns',
  };
}

export const stderrLogger: Logger = {
  info: (m) => process.stderr.write(m + '\n'),
  warn: (m) => process.stderr.write('warning: ' + m + '\n'),
};

export function defaultIo(opts: { profileDir?: string | undefined; quiet?: boolean } = {}): Io {
  const env = process.env;
  return {
    run: spawnRunner,
    log: opts.quiet ? { info: () => {}, warn: stderrLogger.warn } : stderrLogger,
    paths: resolvePaths(opts, env),
    hostPid: process.pid,
    env,
  };
}

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
