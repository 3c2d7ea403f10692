import type { Argv } from 'yargs';
import type { EnableOptions } from '../systemd/enable.js';
import { defineCommand, out, type GlobalArgs } from './common.js';
import { disableJson, enableJson, jsonOption, printJson, type JsonArgs } from './json.js';
import { confirmOption, runConfirmed, shieldFromHangup } from './confirm.js';

/** The flags enable and units share: what goes into the profile's [interface], and the image. */
interface ProfileFlags extends GlobalArgs {
  name: string;
  nic?: string;
  address?: string[];
  gateway?: string;
  root?: string;
  service?: string[];
  services?: boolean;
}

function profileFlags<T>(y: Argv<T>) {
  return y
    .positional('name', { type: 'string', demandOption: true })
    .option('nic', { type: 'string', describe: 'the NIC: a name, or mac:52:54:00:12:34:56' })
    .option('address', {
      type: 'string',
      array: true,
      describe: "an address with prefix (repeat for several); left out: adopt the NIC's",
    })
    .option('gateway', { type: 'string', describe: 'the default gateway inside the namespace' })
    .option('root', {
      type: 'string',
      describe: 'write into the image at DIR instead of the running system (like systemctl --root)',
    })
    .option('service', {
      type: 'string',
      array: true,
      describe:
        'for a profile without services: a preset (oob presets) or an installed UNIT.service to copy; repeat for several (default: sshd)',
    })
    .option('services', {
      type: 'boolean',
      default: true,
      describe: '--no-services: add no service to a profile without services (the network only)',
    });
}

const enableOptions = (argv: ProfileFlags, o: { now: boolean; force: boolean }): EnableOptions => ({
  ...(argv.nic ? { nic: argv.nic } : {}),
  addresses: argv.address ?? [],
  ...(argv.gateway ? { gateway: argv.gateway } : {}),
  ...(argv.root ? { root: argv.root } : {}),
  now: o.now && !argv.root,
  force: o.force,
  ...(argv.services === false ? { services: [] } : argv.service?.length ? { services: argv.service } : {}),
});

interface EnableArgs extends ProfileFlags, JsonArgs {
  now: boolean;
  force: boolean;
  confirm?: string;
}

/** With --confirm: the change in the worker, its options kept in the pending record (commands/confirm.ts). */
const confirmed = (
  io: Parameters<typeof runConfirmed>[0],
  what: 'enable' | 'disable',
  argv: GlobalArgs & JsonArgs & { name: string; confirm?: string },
  args: object,
) => runConfirmed(io, what, { names: [argv.name], ...argv, wait: 30 }, { ...args });

export const enableCommand = defineCommand<EnableArgs>({
  command: 'enable <name>',
  describe:
    'write or update the profile, install the systemd unit and its drop-in, keep network managers off the NIC, enable (and start) it',
  builder: (y) =>
    confirmOption(jsonOption(profileFlags(y)))
      .option('now', { type: 'boolean', default: true, describe: 'start it now too (--no-now: only at the next boot)' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'override the lock-out guard, now and at every start',
      }) as never,
  needsRoot: true,
  profileName: 'name',
  handler: async (argv, io) => {
    if (argv.confirm !== undefined) return confirmed(io, 'enable', argv, enableOptions(argv, argv));
    if (!argv.root) await shieldFromHangup(io, [argv.name]);
    const { enable } = await import('../systemd/enable.js');
    const r = await enable(io, argv.name, enableOptions(argv, argv));
    if (argv.json) {
      printJson(enableJson(argv.name, r, argv.root));
      return 0;
    }
    for (const n of r.notes) io.log.info(`${argv.name}: note: ${n}`);
    for (const f of r.written) out(`wrote ${f}`);
    out(
      `${argv.name}: oob@${argv.name}.service enabled${argv.root ? ` in ${argv.root}` : ''}${r.active ? `; ${r.active}` : argv.now && !argv.root ? '' : '; it starts at the next boot'}`,
    );
    return 0;
  },
});

interface DisableArgs extends GlobalArgs, JsonArgs {
  name: string;
  now: boolean;
  root?: string;
  confirm?: string;
}

export const disableCommand = defineCommand<DisableArgs>({
  command: 'disable <name>',
  describe:
    'disable the unit and remove what enable generated (the profile stays); --now also stops it and returns the NIC',
  builder: (y) =>
    confirmOption(jsonOption(y))
      .positional('name', { type: 'string', demandOption: true })
      .option('now', {
        type: 'boolean',
        default: false,
        describe: 'stop it now: the NIC goes back to the host with its recorded configuration',
      })
      .option('root', { type: 'string', describe: 'act on the image at DIR' }) as never,
  needsRoot: true,
  profileName: 'name',
  handler: async (argv, io) => {
    if (argv.confirm !== undefined)
      return confirmed(io, 'disable', argv, { now: argv.now, ...(argv.root ? { root: argv.root } : {}) });
    if (!argv.root) await shieldFromHangup(io, [argv.name]);
    const { disable } = await import('../systemd/enable.js');
    const r = await disable(io, argv.name, { now: argv.now, ...(argv.root ? { root: argv.root } : {}) });
    if (argv.json) {
      printJson(disableJson(argv.name, r, argv.root));
      return 0;
    }
    for (const f of r.removed) out(`removed ${f}`);
    out(`${argv.name}: oob@${argv.name}.service disabled${r.stopped ? ' and stopped' : ''}; the profile stays`);
    return 0;
  },
});

export const unitsCommand = defineCommand<ProfileFlags>({
  command: 'units <name>',
  describe: 'print what enable would write, writing nothing',
  builder: (y) => profileFlags(y) as never,
  profileName: 'name',
  handler: async (argv, io) => {
    const { prepare } = await import('../systemd/enable.js');
    const p = await prepare(io, argv.name, enableOptions(argv, { now: false, force: false }));
    for (const n of p.notes) out(`# note: ${n}`);
    if (p.profileChanged) out(`# ---- ${p.profileFile} (updated)\n${p.profileText.trimEnd()}\n`);
    for (const f of p.files) out(`# ---- ${f.path}\n${f.content.trimEnd()}\n`);
    return 0;
  },
});
