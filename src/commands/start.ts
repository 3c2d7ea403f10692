import { defineCommand, out, secondsOption, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  name: string;
  timeout: number;
}

export const startCommand = defineCommand<Args>({
  command: 'start <name>',
  describe: 'run the supervisor in the background, without systemd; returns once every service is ready',
  builder: (y) =>
    secondsOption(
      y.positional('name', { type: 'string', demandOption: true }),
      'timeout',
      60,
      'seconds to wait for readiness',
    ) as never,
  needsRoot: true,
  profileName: 'name',
  handler: async (argv, io) => {
    const { startSupervisor } = await import('../supervise/control.js');
    const r = await startSupervisor(io, argv.name, {
      timeoutMs: argv.timeout * 1000,
      profileDirArg: argv['profile-dir'],
    });
    out(
      r.already
        ? `${argv.name}: already running (supervisor pid ${r.pid})`
        : `${argv.name}: started (supervisor pid ${r.pid}), ${r.status}; log: ${r.log}`,
    );
    return 0;
  },
});

export const stopCommand = defineCommand<Args>({
  command: 'stop <name>',
  describe: 'stop the background supervisor and wait until it and its services are gone',
  builder: (y) =>
    secondsOption(
      y.positional('name', { type: 'string', demandOption: true }),
      'timeout',
      120,
      'seconds to wait before killing what is left',
    ) as never,
  needsRoot: true,
  profileName: 'name',
  handler: async (argv, io) => {
    const { stopSupervisor } = await import('../supervise/control.js');
    const r = await stopSupervisor(io, argv.name, { timeoutMs: argv.timeout * 1000 });
    out(
      r.wasRunning
        ? `${argv.name}: stopped (supervisor pid ${r.pid}${r.forced ? ', killed after the timeout; what was left was cleaned up' : ''})`
        : `${argv.name}: no supervisor was running`,
    );
    return 0;
  },
});
