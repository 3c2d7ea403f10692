import { defineCommand, nameArgs, out, waitOption, type GlobalArgs } from './common.js';
import { jsonOption, printJson, upJson, type JsonArgs } from './json.js';
import { confirmOption, runConfirmed, shieldFromHangup } from './confirm.js';

interface Args extends GlobalArgs, JsonArgs {
  names: string[];
  force: boolean;
  wait: number;
  confirm?: string;
}

export const upCommand = defineCommand<Args>({
  command: 'up <names..>',
  describe: 'move the NIC into the namespace and configure it (idempotent)',
  builder: (y) =>
    jsonOption(confirmOption(waitOption(nameArgs(y)))).option('force', {
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
    const results = await upProfiles(io, profiles, { force: argv.force, waitMs: argv.wait * 1000 });
    if (argv.json) {
      printJson(upJson(results));
      return 0;
    }
    for (const r of results) {
      const p = r.profile;
      for (const n of r.notes) io.log.info(`${p.name}: note: ${n}`);
      const what = `${r.nicName ?? `no NIC, veth ${p.links?.veth?.name}`} in namespace ${p.name}, ${r.addresses.join(', ')}${r.gateways.length ? `, default via ${r.gateways.join(', ')}` : ''}`;
      out(
        r.steps.length
          ? `${p.name}: up: ${what} (${r.steps.length} steps)`
          : `${p.name}: already up, nothing to do: ${what}`,
      );
    }
    return 0;
  },
});
