import { defineCommand, nameArgs, out, waitOption, type GlobalArgs } from './common.js';
import { downJson, jsonOption, printJson, type JsonArgs } from './json.js';
import { confirmOption, runConfirmed, shieldFromHangup } from './confirm.js';

interface Args extends GlobalArgs, JsonArgs {
  names: string[];
  force: boolean;
  wait: number;
  confirm?: string;
}

export const downCommand = defineCommand<Args>({
  command: 'down <names..>',
  describe: 'stop what runs in the namespace, return the NIC to the host as it was, delete the namespace (idempotent)',
  builder: (y) =>
    jsonOption(confirmOption(waitOption(nameArgs(y)))).option('force', {
      type: 'boolean',
      default: false,
      describe: 'return the NIC here even if it came from another network namespace',
    }) as never,
  needsRoot: true,
  profileName: 'names',
  handler: async (argv, io) => {
    if (argv.confirm !== undefined) return runConfirmed(io, 'down', argv);
    await shieldFromHangup(io, argv.names);
    const { downProfiles } = await import('../engine/ops.js');
    const results = await downProfiles(io, argv.names, { waitMs: argv.wait * 1000, force: argv.force });
    if (argv.json) {
      printJson(downJson(results));
      return 0;
    }
    for (const r of results) {
      const name = r.name;
      for (const n of r.notes) io.log.info(`${name}: note: ${n}`);
      out(r.steps.length ? `${name}: down (${r.steps.length} steps)` : `${name}: already down, nothing to do`);
    }
    return 0;
  },
});
