import type { CommandModule } from 'yargs';
import { ioFor, out, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  name: string;
  timeout: number;
}

export const startCommand: CommandModule<GlobalArgs, Args> = {
  command: 'start <name>',
  describe: 'run the supervisor in the background, without systemd; returns once every service is ready',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }).option('timeout', { type: 'number', default: 60, describe: 'seconds to wait for readiness' }) as never,
  handler: async (argv) => {
    const { requireRoot } = await import('../engine/ops.js');
    const { startSupervisor } = await import('../supervise/control.js');
    requireRoot('oob start');
    const io = ioFor(argv);
    const r = await startSupervisor(io, argv.name, { timeoutMs: argv.timeout * 1000, profileDirArg: argv['profile-dir'] });
    out(r.already ? `${argv.name}: already running (supervisor pid ${r.pid})` : `${argv.name}: started (supervisor pid ${r.pid}), ${r.status}; log: ${r.log}`);
  },
};

export const stopCommand: CommandModule<GlobalArgs, Args> = {
  command: 'stop <name>',
  describe: 'stop the background supervisor and wait until it and its services are gone',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }).option('timeout', { type: 'number', default: 120, describe: 'seconds to wait before killing what is left' }) as never,
  handler: async (argv) => {
    const { requireRoot } = await import('../engine/ops.js');
    const { stopSupervisor } = await import('../supervise/control.js');
    requireRoot('oob stop');
    const r = await stopSupervisor(ioFor(argv), argv.name, { timeoutMs: argv.timeout * 1000 });
    out(r.wasRunning ? `${argv.name}: stopped (supervisor pid ${r.pid}${r.forced ? ', killed after the timeout; what was left was cleaned up' : ''})` : `${argv.name}: no supervisor was running`);
  },
};
