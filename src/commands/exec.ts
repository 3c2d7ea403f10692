import { userInfo } from 'node:os';
import { OobError } from '../errors.js';
import { defineCommand, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  name: string;
  cmd: string[];
}

export const execCommand = defineCommand<Args>({
  command: 'exec <name> [cmd..]',
  describe:
    'run a command inside the namespace (ip netns exec: /etc/netns/NAME applies) and exit with its status; without one, open your shell there',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .positional('cmd', { type: 'string', array: true, describe: 'the command and its arguments, after --' })
      .example('$0 exec mgmt -- ss -tlnp', 'sockets listening in mgmt') as never,
  needsRoot: true,
  profileName: 'name',
  handler: async (argv, io) => {
    const { listNamespaces } = await import('../observe/observe.js');
    const { runAttached } = await import('../sys/run.js');
    if (!(await listNamespaces(io)).includes(argv.name))
      throw new OobError(
        'precondition',
        `namespace ${argv.name} does not exist: bring it up first with: oob up ${argv.name}`,
      );
    const a = argv as unknown as { _: unknown[]; '--'?: string[] };
    const rest = a['--'] ?? a._.slice(1).map(String);
    const cmd = [...(argv.cmd ?? []), ...rest].map(String);
    // no command: the user's shell, whose network is the namespace (ip netns identify $$ prints NAME)
    if (!cmd.length) cmd.push(process.env.SHELL || userInfo().shell || '/bin/sh');
    return runAttached(['ip', 'netns', 'exec', argv.name, ...cmd]);
  },
});
