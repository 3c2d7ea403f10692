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
    // a change made with --confirm and never confirmed (a reboot inside its window) is resolved first
    const { resolvePendingAtStart } = await import('./confirm.js');
    const verdict = await resolvePendingAtStart(io, argv.name);
    const underUnit = io.env.INVOCATION_ID !== undefined;
    if (verdict === 'stay-down') {
      if (underUnit) {
        // disabled now, but this start job is running: a stop job ends it (an exit would be restarted)
        const { unitName } = await import('../state/layout.js');
        await io.run(['systemctl', 'stop', '--no-block', unitName(argv.name)], { allowFail: true });
        const { sleep } = await import('../sys/until.js');
        await sleep(60_000); // systemd's SIGTERM comes first
      }
      return 0;
    }
    if (verdict === 'restart' && underUnit) {
      // the unit files were restored: systemd starts this unit again on them (Restart=always)
      const { ExitCode } = await import('../errors.js');
      return ExitCode.rolledBack;
    }
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
