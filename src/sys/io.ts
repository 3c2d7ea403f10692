// Everything that touches the system goes through an Io, passed in as an argument.
// Tests build their own (a recording or failing runner, temp directories) instead of mocking modules.
import type { Runner } from './run.js';
import { stderrIsJournal, withPriority } from './journal.js';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
}

/** The roots of oob's files (their defaults and the names below them: state/layout.ts). */
export interface Paths {
  profileDir: string;
  runtimeDir: string;
  /** The persistent root (/var/lib/oob): pending confirmations (state/layout.ts). */
  stateDir?: string;
  /** Where `ip netns exec` looks for per-namespace /etc files. */
  netnsEtcDir: string;
  /** Where `ip netns add` mounts namespaces. */
  netnsRunDir: string;
}

/** The file effects of a change (apply's write and remove steps): a test Io can fail them. */
export interface FileEffects {
  /** Write atomically (temp file, fsync, rename), creating the directory. */
  write(file: string, data: string, mode: number): Promise<void>;
  /** rm -f. */
  remove(file: string): Promise<void>;
  /** rmdir, if it exists and is empty. */
  removeDirIfEmpty(dir: string): Promise<void>;
}

export interface Io {
  run: Runner;
  /** File effects; the real ones (sys/files.ts realFiles) when absent. */
  fs?: FileEffects;
  log: Logger;
  paths: Paths;
  /** The pid whose network namespace is "the host" (the namespace oob itself runs in). */
  hostPid: number;
  env: NodeJS.ProcessEnv;
}

export const stderrLogger: Logger = {
  info: (m) => process.stderr.write(withPriority(stderrIsJournal(), 'info', m) + '\n'),
  warn: (m) => process.stderr.write(withPriority(stderrIsJournal(), 'warning', 'warning: ' + m) + '\n'),
};
