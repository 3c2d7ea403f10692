// oob confirm / oob revert: keep or undo a change made with --confirm (engine/confirm.ts), from any
// session and any network namespace; the four kinds of change (up, down, enable, disable) as the
// machinery needs them; and the hidden verb the detached worker runs.
import { rm } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { pendingFile } from '../state/layout.js';
import { defineCommand, out, waitOption, type GlobalArgs } from './common.js';
import type { Applied, Change, ChangeFor, ConfirmedOpts } from '../engine/confirm.js';
import { CHANGE_KINDS, type ChangeKind, type Pending } from '../state/pending.js';
import type { Io } from '../sys/io.js';
import { ExitCode, OobError } from '../errors.js';
import type { EnableOptions } from '../systemd/enable.js';
import { disableJson, downJson, enableJson, upJson } from './json.js';

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
      const r = await decide(io, argv.name, verb, changes(io, { waitMs: argv.wait * 1000 }), argv.wait * 1000);
      out(`${argv.name}: ${r.why}`);
      for (const d of r.details) out(`  ${d}`);
      if (r.result === 'failed') return ExitCode.rollbackIncomplete;
      // a confirm that came too late to keep anything says so in its exit code
      return verb === 'confirm' && r.result === 'reverted' ? ExitCode.rolledBack : 0;
    },
  });

export const confirmCommand = decideCommand(
  'confirm',
  'keep the change made with --confirm (works from any session and network namespace)',
);
export const revertCommand = decideCommand('revert', 'undo the change made with --confirm now');

/** The --confirm[=DURATION] flag of up, down, enable and disable. */
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

interface ChangeCtx {
  waitMs: number;
  force?: boolean;
  /** The command's own options (enable's EnableOptions, disable's now), kept in the record for the worker. */
  args?: Record<string, unknown>;
}

const upLine = (r: Awaited<ReturnType<typeof import('../engine/ops.js').upProfiles>>[number]) => {
  const p = r.profile;
  return `${p.name}: up: ${r.nicName} in namespace ${p.name}, ${r.addresses.join(', ')}${r.gateways.length ? `, default via ${r.gateways.join(', ')}` : ''} (${r.steps.length} steps)`;
};

/** The lines `oob enable` prints (stdout) for what it did. */
export const enableLines = (name: string, r: import('../systemd/enable.js').EnableResult, root?: string) => [
  ...r.notes.map((n) => `${name}: note: ${n}`),
  ...r.written.map((f) => `wrote ${f}`),
  `${name}: oob@${name}.service enabled${root ? ` in ${root}` : ''}${r.active ? `; ${r.active}` : root ? '; it starts at the next boot' : ''}`,
];

/** The four kinds of change, as engine/confirm.ts runs them. */
export function changes(io: Io, ctx: ChangeCtx): ChangeFor {
  return ({ what, profile: name }) => changeOf(io, what, name, ctx);
}

function changeOf(io: Io, what: ChangeKind, name: string, ctx: ChangeCtx): Change {
  const ops = () => import('../engine/ops.js');
  const load = async () => (await import('../profile/load.js')).loadProfile(io.paths.profileDir, name);
  const unitUndo = async (p: Pending) => (await import('../systemd/confirm.js')).undoUnitChange(io, p);
  switch (what) {
    case 'up':
      return {
        check: async () => {
          await load();
          return {};
        },
        apply: async (): Promise<Applied> => {
          // with --confirm the lock-out guard is the safety net: it reverts unless confirmed
          const rs = await (await ops()).upProfiles(io, [await load()], { force: true, waitMs: ctx.waitMs });
          const doc = upJson(rs);
          return rs[0]!.steps.length
            ? { did: upLine(rs[0]!), doc }
            : { nothing: `${name}: already up, nothing to do (nothing to confirm)`, doc };
        },
        undo: async () => void (await (await ops()).downProfiles(io, [name], { waitMs: ctx.waitMs })),
      };
    case 'down':
      return {
        // the revert brings it up from the profile: one that does not load could not be reverted
        check: async () => {
          await load();
          return {};
        },
        apply: async (): Promise<Applied> => {
          const rs = await (await ops()).downProfiles(io, [name], { waitMs: ctx.waitMs, force: ctx.force ?? false });
          const doc = downJson(rs);
          return rs[0]!.steps.length
            ? { did: `${name}: down (${rs[0]!.steps.length} steps)`, doc }
            : { nothing: `${name}: already down, nothing to do (nothing to confirm)`, doc };
        },
        undo: async () =>
          void (await (await ops()).upProfiles(io, [await load()], { force: true, waitMs: ctx.waitMs })),
      };
    case 'enable':
      return {
        check: async () => {
          const { prepare, requireSystemd } = await import('../systemd/enable.js');
          const o = ctx.args as unknown as EnableOptions;
          if (o.root)
            throw new OobError(
              'usage',
              '--confirm acts on the running system: with --root there is nothing to confirm',
            );
          requireSystemd(undefined, 'enabled');
          await prepare(io, name, { ...o, confirming: true }); // a bad flag or profile: one line, nothing written
          const { saveBefore } = await import('../systemd/confirm.js');
          return { args: ctx.args!, before: await saveBefore(io, name) };
        },
        apply: async (p): Promise<Applied> => {
          const { enable } = await import('../systemd/enable.js');
          const r = await enable(io, name, { ...(p.args as unknown as EnableOptions), confirming: true });
          const doc = enableJson(name, r, undefined);
          return doc.changed
            ? { did: enableLines(name, r).join('\n'), doc }
            : { nothing: `${name}: enabled and running as it is, nothing to do (nothing to confirm)`, doc };
        },
        undo: unitUndo,
      };
    case 'disable':
      return {
        check: async () => {
          const { requireSystemd } = await import('../systemd/enable.js');
          if (ctx.args?.root)
            throw new OobError(
              'usage',
              '--confirm acts on the running system: with --root there is nothing to confirm',
            );
          requireSystemd(undefined, 'disabled');
          const { saveBefore } = await import('../systemd/confirm.js');
          return { args: ctx.args!, before: await saveBefore(io, name) };
        },
        apply: async (p): Promise<Applied> => {
          const { disable } = await import('../systemd/enable.js');
          const r = await disable(io, name, { now: p.args?.now === true });
          const doc = disableJson(name, r, undefined);
          return doc.changed
            ? {
                did: [
                  ...r.removed.map((f) => `removed ${f}`),
                  `${name}: oob@${name}.service disabled${r.stopped ? ' and stopped' : ''}; the profile stays`,
                ].join('\n'),
                doc,
              }
            : { nothing: `${name}: not enabled, nothing to do (nothing to confirm)`, doc };
        },
        undo: unitUndo,
      };
  }
}

/** A change command's handler with --confirm: one profile, the change in the worker. */
export async function runConfirmed(
  io: Io,
  what: ChangeKind,
  argv: { names: string[]; confirm?: string; force?: boolean; wait: number; quiet?: boolean; json?: boolean },
  args?: Record<string, unknown>,
): Promise<number> {
  const { confirmedChange } = await import('../engine/confirm.js');
  if (argv.names.length !== 1)
    throw new OobError(
      'usage',
      `--confirm takes one profile at a time (given ${argv.names.length}: ${argv.names.join(' ')})`,
    );
  const json = argv.json ?? false;
  const o: ConfirmedOpts = {
    windowS: parseWindowSync(argv.confirm),
    force: argv.force ?? false,
    waitMs: argv.wait * 1000,
    say: (l) => io.log.info(l),
    // with --json stdout carries the one document: the lines go to stderr
    tell: json ? (l) => process.stderr.write(l + '\n') : out,
    quiet: argv.quiet ?? false,
    json,
  };
  const ctx: ChangeCtx = { waitMs: o.waitMs, force: o.force, ...(args ? { args } : {}) };
  return confirmedChange(io, what, argv.names[0]!, changes(io, ctx), o);
}

interface WorkerArgs extends GlobalArgs {
  what: ChangeKind;
  name: string;
  window: number;
  wait: number;
  force: boolean;
}

/** The worker (hidden): started by a change with --confirm, never by a person. */
export const confirmWorkerCommand = defineCommand<WorkerArgs>({
  command: '__confirm-worker <what> <name>',
  describe: false as never,
  builder: (y) =>
    y
      .positional('what', { choices: CHANGE_KINDS, demandOption: true })
      .positional('name', { type: 'string', demandOption: true })
      .option('window', { type: 'number', demandOption: true })
      .option('wait', { type: 'number', default: 30 })
      .option('force', { type: 'boolean', default: false }) as never,
  needsRoot: true,
  profileName: 'name',
  handler: async (argv, io) => {
    const { runWorker } = await import('../engine/confirm.js');
    const waitMs = argv.wait * 1000;
    return runWorker(io, argv.what, argv.name, changes(io, { waitMs, force: argv.force }), {
      windowS: argv.window,
      waitMs,
    });
  },
});

/**
 * Without --confirm: a change whose SSH session drops mid-way still finishes (or rolls back) as
 * one piece: the hang-up and a broken pipe no longer end this process. And no change while another
 * waits for its confirmation (a stale one whose worker is gone is resolved first).
 */
export async function shieldFromHangup(io: Io, names: string[], waitS = 30): Promise<void> {
  for (const sig of ['SIGHUP', 'SIGPIPE'] as const) process.on(sig, () => {});
  const { refuseIfPending } = await import('../engine/confirm.js');
  await refuseIfPending(io, names, changes(io, { waitMs: waitS * 1000 }));
}

/**
 * The unit's start (`oob run NAME`, also at boot) and `oob start`: a pending change found here is
 * resolved before anything comes up (issue 9, "a reboot inside the window reverts"). Its worker
 * alive: this start is part of the change (enable restarts the unit), it goes on, and the lock-out
 * guard is the safety net as for the change itself. Its worker gone (a reboot, a kill): an
 * unconfirmed enable or disable is reverted (systemd/confirm.ts); an unconfirmed up or down ended
 * with the boot (a namespace does not survive one): the record goes, and the unit does what it is
 * enabled to do. The verdict: go on, stay down, or exit for systemd to start it again on the restored files.
 */
export async function resolvePendingAtStart(io: Io, name: string): Promise<'go' | 'stay-down' | 'restart'> {
  const { pendingOf, pendingGarbage } = await import('../state/pending.js');
  const bad = await pendingGarbage(io, name);
  if (bad) {
    io.log.warn(
      `${name}: the pending-change file is ${bad}: ignored at start (oob up/down/enable/disable refuse until it is removed)`,
    );
    return 'go';
  }
  const p = await pendingOf(io, name);
  if (!p) return 'go';
  if (p.alive) {
    if (p.what === 'enable' || p.what === 'up') io.env.OOB_FORCE = '1'; // reverted unless confirmed, as the change itself
    return 'go';
  }
  const { alive: _a, ...rec } = p;
  void _a;
  if (p.what === 'enable' || p.what === 'disable') {
    if (p.state === 'starting') {
      await rm(pendingFile(io.paths, name), { force: true });
      return 'go';
    }
    const { revertUnitChangeAtBoot } = await import('../systemd/confirm.js');
    return revertUnitChangeAtBoot(io, rec);
  }
  await rm(pendingFile(io.paths, name), { force: true });
  io.log.warn(
    `${name}: the ${p.what} --confirm of ${p.since} was never confirmed and its worker is gone: it ended with it (nothing of it survives a reboot); starting as enabled`,
  );
  return 'go';
}
