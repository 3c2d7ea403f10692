import { OobError } from '../errors.js';
import { stderrIsJournal, withPriority } from '../sys/journal.js';
import type { Profile } from '../profile/types.js';
import { defineCommand, out, type GlobalArgs } from './common.js';

interface Args extends GlobalArgs {
  names?: string[];
  file?: string;
}

export const checkCommand = defineCommand<Args>({
  command: 'check [names..]',
  describe: 'validate profiles (all of them without a name); changes nothing, needs no root',
  builder: (y) =>
    y.positional('names', { type: 'string', array: true }).option('file', {
      type: 'string',
      describe: 'validate the file PATH as the profile NAME (one name), e.g. before it is put in place',
    }) as never,
  // no profileName: a bad name is one of the problems check reports, next to the others'
  handler: async (argv, io) => {
    const { listProfiles, loadProfile } = await import('../profile/load.js');
    if (argv.file !== undefined && argv.names?.length !== 1)
      throw new OobError('usage', 'oob check NAME --file PATH: give exactly one profile name with --file');
    const names = argv.names?.length ? argv.names : await listProfiles(io.paths.profileDir);
    if (!names.length) throw new OobError('noProfile', `no profiles in ${io.paths.profileDir}`);
    let first: OobError | undefined;
    const journal = stderrIsJournal();
    const loaded: Profile[] = [];
    for (const n of names) {
      try {
        const p = await loadProfile(io.paths.profileDir, n, argv.file !== undefined ? { file: argv.file } : {});
        loaded.push(p);
        out(
          p.iface
            ? `${p.file}: ok (nic ${p.iface.nic.kind === 'name' ? p.iface.nic.name : 'mac:' + p.iface.nic.mac}, ${p.iface.addresses.length ? p.iface.addresses.map((a) => `${a.address}/${a.prefixlen}`).join(', ') : 'addresses adopted from the NIC'}, ${p.services.length} service(s))`
            : `${p.file}: ok (no NIC: veth ${p.links?.veth?.name}${p.links?.veth?.addresses.length ? ' ' + p.links.veth.addresses.map((a) => `${a.address}/${a.prefixlen}`).join(', ') : ''}${p.links?.veth?.bridge ? ` on bridge ${p.links.veth.bridge}` : ''}, ${p.services.length} service(s))`,
        );
      } catch (e) {
        if (!(e instanceof OobError)) throw e;
        first ??= e;
        for (const l of [e.message, ...e.details]) process.stderr.write(withPriority(journal, 'error', l) + '\n');
      }
    }
    const shared = await (await import('../observe/observe.js')).sharedNicsNow(io, loaded);
    for (const l of shared) process.stderr.write(withPriority(journal, 'error', l) + '\n');
    if (shared.length) first ??= new OobError('badProfile', shared[0]!);
    if (first)
      throw new OobError(
        first.code,
        `${names.length > 1 ? 'some profiles are' : 'the profile is'} not valid (see above)`,
      );
    return 0;
  },
});
