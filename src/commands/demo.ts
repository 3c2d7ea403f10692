import type { CommandModule } from 'yargs';
import { ioFor, out, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  keep: boolean;
  cleanup: boolean;
}

export const demoCommand: CommandModule<GlobalArgs, Args> = {
  command: 'demo',
  describe: 'show the whole job on a simulated NIC (a veth pair), then remove it all',
  builder: (y) =>
    y
      .option('keep', { type: 'boolean', default: false, describe: 'leave everything set up for exploring' })
      .option('cleanup', { type: 'boolean', default: false, describe: 'remove what a kept demo left' }) as never,
  handler: async (argv) => {
    const { demoCleanup, runDemo } = await import('../demo/demo.js');
    const { requireRoot } = await import('../engine/ops.js');
    requireRoot('oob demo');
    const io = ioFor(argv);
    if (argv.cleanup) {
      const done = await demoCleanup(io);
      out(done.length ? `demo removed: ${done.join(', ')}` : 'no demo to remove');
      return;
    }
    await runDemo(io, { keep: argv.keep }, out);
  },
};
