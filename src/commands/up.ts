import type { CommandModule } from 'yargs';
import { loadAll, requireRoot, upProfile } from '../ops.js';
import { ioFor, nameArgs, out, waitOption, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  names: string[];
  force: boolean;
  wait: number;
}

export const upCommand: CommandModule<GlobalArgs, Args> = {
  command: 'up <names..>',
  describe: 'move the NIC into the namespace and configure it (idempotent)',
  builder: (y) =>
    waitOption(nameArgs(y)).option('force', { type: 'boolean', default: false, describe: 'move the NIC even if it carries the default route or your SSH session' }) as never,
  handler: async (argv) => {
    requireRoot('oob up');
    const io = ioFor(argv);
    const profiles = await loadAll(io, argv.names);
    for (const p of profiles) {
      const r = await upProfile(io, p, { force: argv.force, waitMs: argv.wait * 1000 });
      for (const n of r.notes) io.log.info(`${p.name}: note: ${n}`);
      const what = `${r.nicName} in namespace ${p.name}, ${r.addresses.join(', ')}${r.gateways.length ? `, default via ${r.gateways.join(', ')}` : ''}`;
      out(r.steps.length ? `${p.name}: up: ${what} (${r.steps.length} steps)` : `${p.name}: already up, nothing to do: ${what}`);
    }
  },
};
