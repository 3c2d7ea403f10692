#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// The entry point: registers the commands with yargs and is the only place that sets the exit code.
// (The shebang drops NODE_EXTRA_CA_CERTS: oob opens no TLS connection, and loading a CA bundle at
// start-up costs ~70 ms per run where it is set.)
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { asOobError, ExitCode, OobError } from './errors.js';
import { OUTCOME, type Outcome } from './commands/common.js';
import { checkCommand } from './commands/check.js';
import { demoCommand } from './commands/demo.js';
import { downCommand } from './commands/down.js';
import { execCommand } from './commands/exec.js';
import { planCommand } from './commands/plan.js';
import { presetsCommand } from './commands/presets.js';
import { upCommand } from './commands/up.js';
import { runCommand } from './commands/run.js';
import { startCommand, stopCommand } from './commands/start.js';
import { disableCommand, enableCommand, unitsCommand } from './commands/enable.js';
import { doctorCommand, statusCommand } from './commands/status.js';

// yargs' CommonJS build loads ~15 ms faster than its ESM wrapper: every run starts a fresh Node.
const yargs = createRequire(import.meta.url)('yargs/yargs') as (args: string[]) => Argv;

function report(e: unknown): number {
  const known = asOobError(e);
  if (known) {
    process.stderr.write(`oob: ${known.message}\n`);
    for (const d of known.details) process.stderr.write(`  ${d}\n`);
    return known.exitCode;
  }
  const err = e as Error;
  process.stderr.write(`oob: internal error: ${err?.message ?? String(e)} (this is a bug in oob; run with OOB_DEBUG=1 for the stack)\n`);
  if (process.env.OOB_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  return ExitCode.internal;
}

export async function main(args: string[]): Promise<number> {
  // the command's handler returns its exit code into this (yargs does not hand it back)
  const outcome: Outcome = { code: 0 };
  try {
    await yargs(args)
      .scriptName('oob')
      .usage('$0 <command> [options]\n\nAn out-of-band management plane: a spare NIC in its own network namespace.')
      .option('profile-dir', { type: 'string', describe: 'profile directory (default $OOB_PROFILE_DIR or /etc/oob/profiles)', global: true })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'print only results and errors', global: true })
      .command([statusCommand, doctorCommand, upCommand, downCommand, planCommand, execCommand, runCommand, startCommand, stopCommand, enableCommand, disableCommand, unitsCommand, checkCommand, demoCommand, presetsCommand] as never)
      .demandCommand(1, 'give a command: oob --help lists them')
      .strict()
      .recommendCommands()
      .help()
      .version()
      .fail((msg, err) => {
        if (err) throw err;
        throw new OobError('usage', `${msg} (oob --help shows the usage)`);
      })
      .parseAsync(args, { [OUTCOME]: outcome });
    return outcome.code;
  } catch (e) {
    return report(e);
  }
}

process.exitCode = await main(process.argv.slice(2));
if (process.env.OOB_TRACE) process.stderr.write(`oob trace: done at +${performance.now().toFixed(1)} ms\n`);
