// oob confirm / oob revert: keep or undo a change made with --confirm (engine/confirm.ts), from any
// session and any network namespace; and the hidden verb the detached worker runs.
import type { Argv } from 'yargs';
import { defineCommand, out, waitOption, type GlobalArgs } from './common.js';
import type { ConfirmedOpts } from '../engine/confirm.js';
import type { ChangeKind } from '../state/pending.js';
import type { Io } from '../sys/io.js';
import { OobError } from '../errors.js';

interface Args extends GlobalArgs {
  name: string;
  wait: number;
}

const decideCommand = (verb: 'confirm' | 'revert', describe: string) =>
  defineCommand<Args>({
    command: `${verb} <name>`,
    describe,
    builder: (y) => waitOption(y.positional('name', { type: 'string', demandOption: true })) as never,
    needsRoot: true,
    profileName: 'name',
    handler: async (argv, io) => {
      const { decide } = await import('../engine/confirm.js');
      const r = await decide(io, argv.name, verb, argv.wait * 1000);
      out(`${argv.name}: ${r.why}`);
      for (const d of r.details) out(`  ${d}`);
      return r.result === 'failed' ? (await import('../errors.js')).ExitCode.rollbackIncomplete : 0;
    },
  });

export const confirmCommand = decideCommand(
  'confirm',
  'keep the change made with --confirm (works from any session and network namespace)',
);
export const revertCommand = decideCommand('revert', 'undo the change made with --confirm now');

/** The --confirm[=DURATION] flag of up and down. */
export function confirmOption<T>(y: Argv<T>) {
  return y
    .option('confirm', {
      type: 'string',
      describe:
        'apply, then revert unless "oob confirm NAME" comes within DURATION (default 120 s; 90s, 5m); the change runs in a worker that outlives this session, and the lock-out guard lets it move the NIC of your session',
    })
    .check((argv) => {
      if (argv.confirm !== undefined) void parseWindowSync(argv.confirm);
      return true;
    });
}

export const DEFAULT_WINDOW_S = 120;
export const MAX_WINDOW_S = 86_400;

/** --confirm's value in seconds: "" (the flag alone) is the default; N, Ns, Nm, Nh. */
export function parseWindowSync(v: unknown): number {
  if (v === undefined || v === '' || v === true) return DEFAULT_WINDOW_S;
  const m = typeof v === 'string' || typeof v === 'number' ? /^(\d+)(s|m|h)?$/.exec(String(v).trim()) : null;
  const s = m ? Number(m[1]) * (m[2] === 'm' ? 60 : m[2] === 'h' ? 3600 : 1) : NaN;
  if (!(s >= 1 && s <= MAX_WINDOW_S))
    throw new OobError(
      'usage',
      `--confirm takes a duration from 1 s to ${MAX_WINDOW_S / 3600} h, as --confirm=DURATION (120, 90s, 5m, 1h)${Array.isArray(v) ? `; it was given ${v.length} times` : `, not "${String(v)}"`}`,
    );
  return s;
}

/** up/down's handler with --confirm: one profile, the change in the worker. */
export async function runConfirmed(
  io: Io,
  what: ChangeKind,
  argv: { names: string[]; confirm?: string; force: boolean; wait: number; quiet?: boolean },
): Promise<number> {
  const { confirmedChange } = await import('../engine/confirm.js');
  if (argv.names.length !== 1)
    throw new OobError(
      'usage',
      `--confirm takes one profile at a time (given ${argv.names.length}: ${argv.names.join(' ')})`,
    );
  const o: ConfirmedOpts = {
    windowS: parseWindowSync(argv.confirm),
    force: argv.force,
    waitMs: argv.wait * 1000,
    say: (l) => io.log.info(l),
    tell: out,
    quiet: argv.quiet ?? false,
  };
  return confirmedChange(io, what, argv.names[0]!, o);
}

interface WorkerArgs extends GlobalArgs {
  what: ChangeKind;
  name: string;
  window: number;
  wait: number;
  force: boolean;
}

/** The worker (hidden): started by up/down --confirm, never by a person. */
export const confirmWorkerCommand = defineCommand<WorkerArgs>({
  command: '__confirm-worker <what> <name>',
  describe: false as never,
  builder: (y) =>
    y
      .positional('what', { choices: ['up', 'down'], demandOption: true })
      .positional('name', { type: 'string', demandOption: true })
      .option('window', { type: 'number', demandOption: true })
      .option('wait', { type: 'number', default: 30 })
      .option('force', { type: 'boolean', default: false }) as never,
  needsRoot: true,
  profileName: 'name',
  handler: async (argv, io) => {
    const { runWorker } = await import('../engine/confirm.js');
    return runWorker(io, argv.what, argv.name, {
      windowS: argv.window,
      force: argv.force,
      waitMs: argv.wait * 1000,
    });
  },
});

/**
 * Without --confirm: a change whose SSH session drops mid-way still finishes (or rolls back) as
 * one piece: the hang-up and a broken pipe no longer end this process. And no change while another
 * waits for its confirmation.
 */
export async function shieldFromHangup(io: Io, names: string[]): Promise<void> {
  for (const sig of ['SIGHUP', 'SIGPIPE'] as const) process.on(sig, () => {});
  const { refuseIfPending } = await import('../engine/confirm.js');
  await refuseIfPending(io, names);
}
