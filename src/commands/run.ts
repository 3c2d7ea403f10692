import type { CommandModule } from 'yargs';
import { ioFor, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  name: string;
}

export const runCommand: CommandModule<GlobalArgs, Args> = {
  command: 'run <name>',
  describe: 'bring the profile up and supervise its services in the foreground (what the systemd unit runs)',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }) as never,
  handler: async (argv) => {
    const { requireRoot } = await import('../engine/ops.js');
    const { runSupervisor } = await import('../supervise/supervisor.js');
    requireRoot('oob run');
    process.exitCode = await runSupervisor(ioFor(argv), argv.name);
  },
};
