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
    return runSupervisor(io, argv.name, {
      // the profile's status for node_exporter's textfile collector: what `oob status --format prometheus` prints
      metrics: async () => {
        const { collect } = await import('../status/collect.js');
        const { summarize } = await import('../status/model.js');
        const { formatPrometheus } = await import('../status/prometheus.js');
        const { version } = await import('../sys/self.js');
        return formatPrometheus(summarize(await collect(io, [argv.name])), { version: version() });
      },
    });
  },
});
