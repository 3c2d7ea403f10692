// The command line's global part, as data: cli.ts gives it to yargs, and the man page and the shell
// completions are generated from it and from the command modules (scripts/docs.mjs).
import type { Options } from 'yargs';

export const SUMMARY = 'An out-of-band management plane: a spare NIC in its own network namespace.';

export const GLOBAL_OPTIONS: Record<string, Options> = {
  'profile-dir': {
    type: 'string',
    describe: 'profile directory (default $OOB_PROFILE_DIR or /etc/oob/profiles)',
    global: true,
  },
  quiet: { alias: 'q', type: 'boolean', describe: 'print only results and errors', global: true },
};
