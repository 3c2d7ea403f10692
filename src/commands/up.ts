import { defineCommand, nameArgs, out, waitOption, type GlobalArgs } from './common.js';
import { confirmOption, runConfirmed, shieldFromHangup } from './confirm.js';

interface Args extends GlobalArgs {
  names: string[];
  force: boolean;
  wait: number;
  confirm?: string;
}

export const upCommand = defineCommand<Args>({
  command: 'up <names..>',
  describe: 'move the NIC into the namespace and configure it (idempotent)',
  builder: (y) =>
    confirmOption(waitOption(nameArgs(y))).option('force', {
      type: 'boolean',
      default: false,
      describe: 'move the NIC even if it carries the default route or your SSH session',
    }) as never,
  needsRoot: true,
  profileName: 'names',
  handler: async (argv, io) => {
    if (argv.confirm !== undefined) return runConfirmed(io, 'up', argv);
    await shieldFromHangup(io, argv.names);
    const { loadAll, upProfiles } = await import('../engine/ops.js');
    const profiles = await loadAll(io, argv.names);
    for (const r of await upProfiles(io, profiles, { force: argv.force, waitMs: argv.wait * 1000 })) {
      const p = r.profile;
      for (const n of r.notes) io.log.info(`${p.name}: note: ${n}`);
      const what = `${r.nicName} in namespace ${p.name}, ${r.addresses.join(', ')}${r.gateways.length ? `, default via ${r.gateways.join(', ')}` : ''}`;
      out(
        r.steps.length
          ? `${p.name}: up: ${what} (${r.steps.length} steps)`
          : `${p.name}: already up, nothing to do: ${what}`,
      );
    }
    return 0;
  },
});
