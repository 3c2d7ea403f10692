import type { CommandModule } from 'yargs';
import { checkProfileName } from '../profile/names.js';
import { OobError } from '../errors.js';
import { ioFor, nameArgs, out, waitOption, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  names: string[];
  force: boolean;
  wait: number;
}

export const downCommand: CommandModule<GlobalArgs, Args> = {
  command: 'down <names..>',
  describe: 'stop what runs in the namespace, return the NIC to the host as it was, delete the namespace (idempotent)',
  builder: (y) => waitOption(nameArgs(y)).option('force', { type: 'boolean', default: false, describe: 'return the NIC here even if it came from another network namespace' }) as never,
  handler: async (argv) => {
    const { downProfiles, requireRoot } = await import('../engine/ops.js');
    requireRoot('oob down');
    const io = ioFor(argv);
    for (const n of argv.names) {
      const err = checkProfileName(n);
      if (err) throw new OobError('usage', err);
    }
    for (const r of await downProfiles(io, argv.names, { waitMs: argv.wait * 1000, force: argv.force })) {
      const name = r.name;
      for (const n of r.notes) io.log.info(`${name}: note: ${n}`);
      out(r.steps.length ? `${name}: down (${r.steps.length} steps)` : `${name}: already down, nothing to do`);
    }
  },
};
