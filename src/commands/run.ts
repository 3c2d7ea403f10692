import { defineCommand, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  name: string;
}

export const runCommand = defineCommand<Args>({
  command: 'run <name>',
  describe: 'bring the profile up and supervise its services in the foreground (what the systemd unit runs)',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }) as never,
  needsRoot: true,
  profileName: 'name',
  handler: async (argv, io) => {
    const { runSupervisor } = await import('../supervise/supervisor.js');
    return runSupervisor(io, argv.name);
  },
});
