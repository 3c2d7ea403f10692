// observed state + the record -> the steps `down` takes. Pure. Works without the profile, so a
// deleted or broken profile never strands a NIC.
//
// The way back is a chain: each step names the steps it needs, and the engine does not run a step
// whose need failed. So a NIC that cannot leave the namespace keeps its namespace; a NIC that
// cannot get its name back is not configured (its name may now be another link's); and the record
// goes only once the NIC is back, named and restored: a second `down` still knows what is left.
//
// The NIC leaves under a temporary name that is free in the host (the CNI host-device plugin's
// trick against name clashes), and takes its own name back in the host as a separate step: if
// another link took that name meanwhile, the NIC is still safe in the host, marked as oob's.
import { OobError } from '../errors.js';
import type { Link } from '../net/ipjson.js';
import { isMarkedFor, MARK } from '../observe/nic.js';
import type { Observation } from '../observe/types.js';
import type { RuntimePaths } from '../state/layout.js';
import type { NicRecord } from '../state/record.js';
import { hostRestoreSteps, isOurDnsFile, returnName } from './up.js';
import { nsRecorded } from './netns.js';

export { returnName };
import type { Step } from './types.js';

export interface DownPlan {
  steps: Step[];
  notes: string[];
  /** What this down cannot finish, and why (the record is kept): one line each. Empty when it can. */
  left: string[];
  /** The recorded NIC is neither in the namespace nor in the host: nothing is planned, the record is kept. */
  lost?: { name: string; mac: string };
}

/** The NIC's name in the host: the record's, else the one in oob's mark, else its name now. */
const originalName = (rec: NicRecord | undefined, l: Link, ns: string) =>
  rec?.nic.name ??
  (l.alias?.startsWith(`${MARK}${ns}:`) ? l.alias.slice(`${MARK}${ns}:`.length) : undefined) ??
  l.ifname;

/** The id (after "PROFILE:") of the step that removes the record. */
export const FORGET = 'forget';

const ip = (ns: string | null, args: string[], title: string, id: string, needs: string[] = []): Step => ({
  kind: 'ip',
  ns,
  args,
  title,
  undo: [],
  id,
  ...(needs.length ? { needs } : {}),
});

/** The line `down` says about a lost NIC; `where`: what is known of where it is. */
export const lostLine = (ns: string, lost: NonNullable<DownPlan['lost']>, where: string | undefined) =>
  `${lost.name} (MAC ${lost.mac}) is neither in namespace ${ns} nor in the host${where ? `; it is in namespace ${where}` : ''}: it was moved by hand; nothing is deleted and the record is kept: bring it back to the host (or into ${ns}), then run "oob down ${ns}" again`;

export function planDown(
  ns: string,
  s: Observation,
  paths: Pick<RuntimePaths, 'recordFile' | 'nsRecordFile' | 'dnsFile' | 'dnsDir'>,
  o: { hostPid: number },
): DownPlan {
  const steps: Step[] = [];
  const notes: string[] = [];
  const left: string[] = [];
  const rec = s.record;
  if (s.nsStale !== undefined && !nsRecorded(ns, s)) throw new OobError('precondition', s.nsStale);
  const nsExists = s.namespaces.includes(ns) && s.nsStale === undefined;
  const byRecord = (l: { ifname: string; mac: string }) =>
    !!rec && (l.mac === rec.nic.mac || l.ifname === rec.nic.name);
  const nsNic =
    s.ns?.links.find(isMarkedFor(ns)) ?? (rec ? s.ns?.links.find((l) => l.ifname !== 'lo' && byRecord(l)) : undefined);
  // a profile without a NIC: its namespace record says the namespace is oob's
  const ours = !!rec || !!nsNic || !!s.nsRecord;
  if (nsExists && !ours)
    throw new OobError(
      'precondition',
      `namespace "${ns}" was not created by oob (no record in the runtime directory, no NIC marked by oob in it): leaving it alone`,
    );
  const id = (what: string) => `${ns}:${what}`;
  /** Is this name taken in the host by a link that is not the NIC? */
  const takenBy = (name: string, nic?: Link) =>
    s.host.links.find((l) => l.ifname === name && l.ifindex !== nic?.ifindex);

  /** Restore the NIC once it is in the host under `current`; ids of the steps the record's removal needs. */
  const restore = (nic: Link, current: string, needs: string[], fresh: boolean): string[] | undefined => {
    const orig = originalName(rec, nic, ns);
    const other = takenBy(orig, fresh ? undefined : nic);
    if (current !== orig && other) {
      left.push(
        `${orig} is back in the host as ${current}, not under its own name: the name ${orig} is taken by another link (ifindex ${other.ifindex}); its host configuration is not restored and the record is kept: free the name, then run "oob down ${ns}" again`,
      );
      return undefined;
    }
    const done: string[] = [...needs];
    if (current !== orig) {
      steps.push(
        ip(null, ['link', 'set', 'dev', current, 'name', orig], `rename ${current} back to ${orig}`, id('name'), needs),
      );
      done.push(id('name'));
    }
    if (!rec) {
      steps.push(ip(null, ['link', 'set', 'dev', orig, 'alias', ''], `unmark ${orig}`, id('unmark'), done));
      notes.push(`no record of ${orig}'s host configuration: it is back in the host, down and unconfigured`);
      return [...done, id('unmark')];
    }
    const rs = hostRestoreSteps(rec, orig, fresh ? { alias: nic.alias } : nic, s.host.routes);
    for (const a of rec.nic.addrs.filter((x) => x.dynamic || x.temporary))
      notes.push(
        `${a.local}/${a.prefixlen} was a ${a.temporary ? 'temporary' : 'DHCP/SLAAC'} address of ${orig}: not put back as a permanent one; its ${a.temporary ? 'kernel' : 'client'} gets it again`,
      );
    const ids = rs.map((r, i) => id(`restore${i}`));
    rs.forEach((r, i) => steps.push({ ...r, id: ids[i]!, needs: done }));
    return [...done, ...ids];
  };

  let recordNeeds: string[] | undefined = [];
  if (nsExists)
    steps.push({ kind: 'kill-ns-pids', ns, title: `stop every process left in ${ns}`, undo: [], id: id('kill') });
  const nsDelNeeds = [id('kill')];
  if (nsNic) {
    // down, renamed to a name free in the host, moved out; then its own name back, in the host
    const tmp = returnName(
      nsNic,
      [...s.host.links, ...(s.ns?.links ?? [])].map((l) => l.ifname),
    );
    steps.push(
      ip(ns, ['link', 'set', 'dev', nsNic.ifname, 'down'], `take ${nsNic.ifname} down to rename it`, id('nicdown')),
    );
    steps.push(
      ip(
        ns,
        ['link', 'set', 'dev', nsNic.ifname, 'name', tmp],
        `give ${nsNic.ifname} the name ${tmp}, free in the host`,
        id('tmpname'),
        [id('nicdown')],
      ),
    );
    steps.push(
      ip(
        ns,
        ['link', 'set', 'dev', tmp, 'netns', String(o.hostPid)],
        `move ${nsNic.ifname} back to the host (as ${tmp})`,
        id('out'),
        [id('tmpname')],
      ),
    );
    nsDelNeeds.push(id('out'));
    recordNeeds = restore(nsNic, tmp, [id('out')], true);
  } else {
    const back =
      s.host.links.find(isMarkedFor(ns)) ?? (rec ? s.host.links.find((l) => l.mac === rec.nic.mac) : undefined);
    if (back && rec) {
      if (isMarkedFor(ns)(back))
        notes.push(
          `${back.ifname} had already come back to the host (its namespace was deleted behind oob's back): restoring its configuration`,
        );
      recordNeeds = restore(back, back.ifname, [], false);
    } else if (back) {
      recordNeeds = restore(back, back.ifname, [], false);
    } else if (rec) {
      return { steps: [], notes, left, lost: { name: rec.nic.name, mac: rec.nic.mac } };
    }
  }
  if (nsExists) steps.push(ip(null, ['netns', 'del', ns], `delete namespace ${ns}`, id('nsdel'), nsDelNeeds));
  if (s.nsStale !== undefined)
    steps.push(
      ip(null, ['netns', 'del', ns], `remove the ${ns} left unmounted by an interrupted "ip netns add"`, id('nsdel')),
    );
  if (isOurDnsFile(s.dnsFile))
    steps.push(
      { kind: 'remove', path: paths.dnsFile, title: `remove ${paths.dnsFile}`, undo: [], id: id('dns') },
      {
        kind: 'remove',
        path: paths.dnsDir,
        dir: true,
        title: `remove ${paths.dnsDir} if empty`,
        undo: [],
        needs: [id('dns')],
      },
    );
  if (s.nsRecord)
    steps.push({
      kind: 'remove',
      path: paths.nsRecordFile,
      title: 'forget the namespace record',
      undo: [],
      id: id('forgetns'),
      ...(nsExists || s.nsStale !== undefined ? { needs: [id('nsdel')] } : {}),
    });
  if (rec && recordNeeds)
    steps.push({
      kind: 'remove',
      path: paths.recordFile,
      title: 'forget the record',
      undo: [],
      id: id(FORGET),
      needs: [...new Set(recordNeeds)],
    });
  return { steps, notes, left };
}
