import { defineCommand, out, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  name: string;
  force: boolean;
}

export const planCommand = defineCommand<Args>({
  command: 'plan <name>',
  describe: 'print the exact commands "up" would run now, changing nothing',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .option('force', { type: 'boolean', default: false, describe: 'plan as "up --force" would' }) as never,
  needsRoot: true,
  profileName: 'name',
  handler: async (argv, io) => {
    const { stepCommand } = await import('../engine/apply.js');
    const { planProfileUp } = await import('../engine/ops.js');
    const { loadProfile } = await import('../profile/load.js');
    const profile = await loadProfile(io.paths.profileDir, argv.name);
    const plan = await planProfileUp(io, profile, argv.force);
    for (const n of plan.notes) out(`# note: ${n}`);
    if (!plan.steps.length) {
      out(`# ${profile.name}: nothing to do: everything is in place`);
      return 0;
    }
    out(`# ${profile.name}: ${plan.steps.length} step(s); on failure each done step is undone in reverse`);
    for (const s of plan.steps) {
      const cmd = stepCommand(s);
      // a here-document (an nft script) ends on a line of its own: its title goes above it
      out(cmd.includes('\n') ? `# ${s.title}\n${cmd}` : `${cmd}    # ${s.title}`);
    }
    return 0;
  },
});
