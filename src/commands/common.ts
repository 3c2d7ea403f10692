import type { Argv } from 'yargs';
import { resolvePaths } from '../state/layout.js';
import { stderrLogger, type Io } from '../sys/io.js';
import { spawnRunner } from '../sys/run.js';

export interface GlobalArgs {
  'profile-dir'?: string;
  quiet?: boolean;
}

/** The Io of a command run: the real runner, stderr for messages, the paths from flags and environment. */
export function ioFor(argv: GlobalArgs): Io {
  const env = process.env;
  return {
    run: spawnRunner,
    log: argv.quiet ? { info: () => {}, warn: stderrLogger.warn } : stderrLogger,
    paths: resolvePaths({ profileDir: argv['profile-dir'] }, env),
    hostPid: process.pid,
    env,
  };
}

export const out = (line: string) => process.stdout.write(line + '\n');

export function nameArgs<T>(y: Argv<T>) {
  return y.positional('names', { type: 'string', array: true, describe: 'profile name(s): NAME.ini in the profile directory' });
}

export function waitOption<T>(y: Argv<T>) {
  return y.option('wait', { type: 'number', default: 30, describe: 'seconds to wait for another oob working on the same profile' });
}
