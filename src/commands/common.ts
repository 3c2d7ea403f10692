import type { Argv } from 'yargs';
import { defaultIo, type Io } from '../io.js';

export interface GlobalArgs {
  'profile-dir'?: string;
  quiet?: boolean;
}

export const ioFor = (argv: GlobalArgs): Io => defaultIo({ profileDir: argv['profile-dir'], quiet: argv.quiet ?? false });

export const out = (line: string) => process.stdout.write(line + '\n');

export function nameArgs<T>(y: Argv<T>) {
  return y.positional('names', { type: 'string', array: true, describe: 'profile name(s): NAME.ini in the profile directory' });
}

export function waitOption<T>(y: Argv<T>) {
  return y.option('wait', { type: 'number', default: 30, describe: 'seconds to wait for another oob working on the same profile' });
}
