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

export const stderrLogger: Logger = {
  info: (m) => process.stderr.write(withPriority(stderrIsJournal(), 'info', m) + '\n'),
  warn: (m) => process.stderr.write(withPriority(stderrIsJournal(), 'warning', 'warning: ' + m) + '\n'),
};
