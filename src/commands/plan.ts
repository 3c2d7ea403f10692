import type { CommandModule } from 'yargs';
import { ioFor, out, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  name: string;
  force: boolean;
}

export const planCommand: CommandModule<GlobalArgs, Args> = {
  command: 'plan <name>',
  describe: 'print the exact commands "up" would run now, changing nothing',
  builder: (y) =>
    y.positional('name', { type: 'string', demandOption: true }).option('force', { type: 'boolean', default: false, describe: 'plan as "up --force" would' }) as never,
  handler: async (argv) => {
    const { stepCommand } = await import('../engine/apply.js');
    const { planProfileUp, requireRoot } = await import('../engine/ops.js');
    const { loadProfile } = await import('../profile/load.js');
    requireRoot('oob plan');
    const io = ioFor(argv);
    const profile = await loadProfile(io.paths.profileDir, argv.name);
    const plan = await planProfileUp(io, profile, argv.force);
    for (const n of plan.notes) out(`# note: ${n}`);
    if (!plan.steps.length) {
      out(`# ${profile.name}: nothing to do: everything is in place`);
      return;
    }
    out(`# ${profile.name}: ${plan.steps.length} step(s); on failure each done step is undone in reverse`);
    for (const s of plan.steps) out(`${stepCommand(s)}    # ${s.title}`);
  },
};
