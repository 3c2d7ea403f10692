import { defineCommand, out, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  keep: boolean;
  cleanup: boolean;
}

export const demoCommand = defineCommand<Args>({
  command: 'demo',
  describe: 'show the whole job on a simulated NIC (a veth pair), then remove it all',
  builder: (y) =>
    y
      .option('keep', { type: 'boolean', default: false, describe: 'leave everything set up for exploring' })
      .option('cleanup', { type: 'boolean', default: false, describe: 'remove what a kept demo left' }) as never,
  needsRoot: true,
  handler: async (argv, io) => {
    const { demoCleanup, runDemo } = await import('../demo/demo.js');
    if (argv.cleanup) {
      const done = await demoCleanup(io);
      out(done.length ? `demo removed: ${done.join(', ')}` : 'no demo to remove');
      return 0;
    }
    await runDemo(io, { keep: argv.keep }, out);
    return 0;
  },
});
