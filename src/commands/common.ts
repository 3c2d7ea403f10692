// What every command shares: the Io of a run, the flags, and defineCommand, the one wrapper that
// checks the profile name(s), requires root, builds the Io and hands the handler's exit code to
// cli.ts (the only place that sets it).
import type { Argv, CommandModule } from 'yargs';
import { OobError } from '../errors.js';
import { checkProfileName } from '../profile/names.js';
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

export function requireRoot(what: string, why = 'it changes network namespaces and interfaces'): void {
  if (process.geteuid && process.geteuid() !== 0)
    throw new OobError('permission', `${what} must run as root (${why}): try sudo ${what}`);
}

/** Where a handler's exit code goes: cli.ts passes one to yargs as context, under this key. */
export const OUTCOME = Symbol('oob command outcome');
export interface Outcome {
  code: number;
}

export interface CommandSpec<A extends GlobalArgs> {
  command: string;
  describe: string;
  builder?: (y: Argv<GlobalArgs>) => Argv<unknown>;
  /** Refuse to run without root; a string says why it is needed. */
  needsRoot?: true | string;
  /** The positional that holds the profile name(s): checked once, before anything else. */
  profileName?: 'name' | 'names';
  /** Does the work and returns the exit code; a user's error is thrown as an OobError. */
  handler: (argv: A, io: Io) => Promise<number>;
}

export function defineCommand<A extends GlobalArgs>(spec: CommandSpec<A>): CommandModule<GlobalArgs, A> {
  const verb = `oob ${spec.command.split(' ')[0]}`;
  return {
    command: spec.command,
    describe: spec.describe,
    ...(spec.builder ? { builder: spec.builder as never } : {}),
    handler: async (argv) => {
      if (spec.profileName) {
        const given = (argv as unknown as Record<string, unknown>)[spec.profileName];
        for (const n of [given ?? []].flat()) {
          const err = checkProfileName(String(n));
          if (err) throw new OobError('usage', err);
        }
      }
      if (spec.needsRoot) requireRoot(verb, spec.needsRoot === true ? undefined : spec.needsRoot);
      const code = await spec.handler(argv as unknown as A, ioFor(argv));
      (argv as unknown as { [OUTCOME]: Outcome })[OUTCOME].code = code;
    },
  };
}

export const out = (line: string) => process.stdout.write(line + '\n');

export function nameArgs<T>(y: Argv<T>) {
  return y.positional('names', {
    type: 'string',
    array: true,
    describe: 'profile name(s): NAME.ini in the profile directory',
  });
}

/**
 * A flag that takes seconds. yargs' number type turns "abc" into NaN without a word: this one
 * refuses anything but a number from 0 to MAX_SECONDS, with one usage line (exit 2).
 */
export function secondsOption<T>(y: Argv<T>, name: string, dflt: number, describe: string) {
  // a check, not a coerce: yargs hands a check's own error to fail() (a coerce's becomes a plain message)
  return y
    .option(name, { type: 'number', default: dflt, describe })
    .check((argv) => checkSeconds(name, argv[name]) >= 0);
}

export const MAX_SECONDS = 1_000_000;

export function checkSeconds(flag: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_SECONDS) return v;
  const why = Array.isArray(v)
    ? `; it was given ${v.length} times`
    : v === undefined
      ? '; it was given none'
      : typeof v === 'number' && !Number.isNaN(v)
        ? `, not ${v}`
        : '';
  throw new OobError(
    'usage',
    `--${flag} takes a number of seconds from 0 to ${MAX_SECONDS}, without a unit (e.g. --${flag} 30)${why}`,
  );
}

export function waitOption<T>(y: Argv<T>) {
  return secondsOption(y, 'wait', 30, 'seconds to wait for another oob working on the same profile');
}
