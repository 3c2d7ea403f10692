#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// The entry point: registers the commands with yargs and is the only place that sets the exit code.
// (The shebang drops NODE_EXTRA_CA_CERTS: oob opens no TLS connection, and loading a CA bundle at
// start-up costs ~70 ms per run where it is set.)
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import type { Argv } from 'yargs';
import { asOobError, ExitCode, OobError } from './errors.js';
import { OUTCOME, type Outcome } from './commands/common.js';
import { version } from './sys/self.js';
import { stderrIsJournal, withPriority } from './sys/journal.js';
import { GLOBAL_OPTIONS, SUMMARY } from './commands/globals.js';
import { repeatedOption, unknownOptionMessage, type KnownOptions } from './commands/usage.js';
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
import { confirmCommand, confirmWorkerCommand, revertCommand } from './commands/confirm.js';
import { hostNamespacesUnreachable, IN_HOST_ENV, inHostArgv, ownNamespaceOfCaller } from './sys/hostns.js';
import { resolvePaths } from './state/layout.js';

// yargs' CommonJS build loads ~15 ms faster than its ESM wrapper: every run starts a fresh Node.
const yargs = createRequire(import.meta.url)('yargs/yargs') as (args: string[]) => Argv;

/** yargs renders the whole help text after every command's handler starts, in case the handler
 * asks for it (~15 ms a run); oob's handlers never do, and --help still renders it fresh. */
function noHelpCache(y: Argv): Argv {
  (y as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } })
    .getInternalMethods()
    .getUsageInstance().cacheHelpMessage = () => {};
  return y;
}

const NO_COMMAND = 'give a command: oob --help lists them';

/** On a refused command line only: the line naming an unknown option, if there is one. Without a
 * command yargs recognised, a word that is no command (and its suggestion) is the error, unless
 * no word was given at all ("oob --bogus"). */
function unknownOption(cli: Argv, args: string[], msg: string): string | undefined {
  const y = cli as unknown as {
    getInternalMethods(): { getContext(): { fullCommands: string[] } };
    getOptions(): KnownOptions;
  };
  const running = y.getInternalMethods().getContext().fullCommands.at(-1);
  if (!running && msg !== NO_COMMAND) return undefined;
  const positionals = [...(running ?? '').matchAll(/[<[]([^.\]>]+)/g)].map((m) => m[1]!);
  const verb = running ? `oob ${running.split(' ')[0]}` : 'oob';
  const line = unknownOptionMessage(args, y.getOptions(), verb, positionals);
  // exec's command takes its own options: they go after --
  return line && positionals.includes('cmd')
    ? `${line} (the command's own options go after --: ${verb} NAME -- CMD...)`
    : line;
}

function report(e: unknown): number {
  const known = asOobError(e);
  if (known) {
    process.stderr.write(
      withPriority(
        stderrIsJournal(),
        'error',
        [`oob: ${known.message}`, ...known.details.map((d) => `  ${d}`)].join('\n'),
      ) + '\n',
    );
    return known.exitCode;
  }
  const err = e as Error;
  process.stderr.write(
    withPriority(
      stderrIsJournal(),
      'error',
      `oob: internal error: ${err?.message ?? String(e)} (this is a bug in oob; run with OOB_DEBUG=1 for the stack)`,
    ) + '\n',
  );
  if (process.env.OOB_DEBUG)
    process.stderr.write(withPriority(stderrIsJournal(), 'error', `${err?.stack ?? ''}`) + '\n');
  return ExitCode.internal;
}

export async function main(args: string[]): Promise<number> {
  // the command's handler returns its exit code into this (yargs does not hand it back)
  const outcome: Outcome = { code: 0 };
  try {
    const cli = noHelpCache(yargs(args));
    await cli
      .scriptName('oob')
      .usage(`$0 <command> [options]\n\n${SUMMARY}`)
      .options(GLOBAL_OPTIONS)
      .command([
        statusCommand,
        doctorCommand,
        upCommand,
        downCommand,
        planCommand,
        execCommand,
        runCommand,
        startCommand,
        stopCommand,
        enableCommand,
        disableCommand,
        unitsCommand,
        checkCommand,
        demoCommand,
        presetsCommand,
        confirmCommand,
        revertCommand,
        confirmWorkerCommand,
      ] as never)
      .demandCommand(1, NO_COMMAND)
      .check((argv) => {
        const { array } = (cli as unknown as { getOptions(): { array: string[] } }).getOptions();
        const repeated = repeatedOption(argv, new Set(array));
        if (repeated) throw new OobError('usage', repeated);
        return true;
      }, true)
      .strict()
      .recommendCommands()
      .help()
      .version(version())
      .fail((msg, err) => {
        if (err) throw err;
        // an unknown option first: it is what went wrong, whatever yargs tripped over after it
        const unknown = unknownOption(cli, args, msg);
        if (unknown) throw new OobError('usage', unknown);
        // yargs breaks some messages over lines ("Invalid values:\n  Argument: …"): one line here
        throw new OobError('usage', `${msg.replace(/\s*\n\s*/g, ' ')} (oob --help shows the usage)`);
      })
      .parseAsync(args, { [OUTCOME]: outcome });
    return outcome.code;
  } catch (e) {
    return report(e);
  }
}

// A reader that went away (`oob status | head -1`) ends the run quietly, as for any Unix filter;
// a broken stderr is not worth dying for either (the exit code still tells).
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});
process.stderr.on('error', () => {});

/** In a session that came in through a management plane, oob runs again in the host's namespaces
 * (sys/hostns.ts): its exit code is that run's. */
function relayToHost(): number | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const plane = ownNamespaceOfCaller(process.env, resolvePaths({}, process.env).runtimeDir);
  if (!plane) return undefined;
  const unreachable = hostNamespacesUnreachable(process.env);
  if (unreachable)
    return report(
      new OobError(
        'system',
        `this runs inside the management plane ${plane} and cannot enter the host's namespaces (${unreachable}): run oob from the host's side (a console or the data NIC)`,
      ),
    );
  const { spawnSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  const [cmd, ...rest] = inHostArgv(process.env, [process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
  const r = spawnSync(cmd!, rest, { stdio: 'inherit', env: { ...process.env, [IN_HOST_ENV]: '1' } });
  if (r.error) {
    return report(
      new OobError(
        'system',
        `cannot run in the host's namespaces from the management plane ${plane}: ${r.error.message}`,
      ),
    );
  }
  return r.status ?? 128 + (r.signal ? (osConstants.signals[r.signal] ?? 15) : 15);
}

const relayed = relayToHost();
// no top-level await: the same file is bundled into CommonJS (scripts/bundle.mjs)
if (relayed !== undefined) process.exitCode = relayed;
else
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    if (process.env.OOB_TRACE)
      process.stderr.write(
        withPriority(stderrIsJournal(), 'debug', `oob trace: done at +${performance.now().toFixed(1)} ms`) + '\n',
      );
  });
