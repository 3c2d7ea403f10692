// observed state + the record -> the steps `down` takes. Pure. Works without the profile, so a
// deleted or broken profile never strands a NIC.
import { OobError } from '../errors.js';
import { isMarkedFor } from '../observe/nic.js';
import type { Observation } from '../observe/types.js';
import type { RuntimePaths } from '../state/layout.js';
import { hostRestoreSteps, isOurDnsFile } from './up.js';
import type { Step } from './types.js';

export interface DownPlan {
  steps: Step[];
  notes: string[];
}

export function planDown(ns: string, s: Observation, paths: Pick<RuntimePaths, 'recordFile' | 'dnsFile' | 'dnsDir'>, o: { hostPid: number }): DownPlan {
  const steps: Step[] = [];
  const notes: string[] = [];
  const rec = s.record;
  const nsExists = s.namespaces.includes(ns);
  const byRecord = (l: { ifname: string; mac: string }) => !!rec && (l.mac === rec.nic.mac || l.ifname === rec.nic.name);
  const nsNic = s.ns?.links.find(isMarkedFor(ns)) ?? (rec ? s.ns?.links.find((l) => l.ifname !== 'lo' && byRecord(l)) : undefined);
  const ours = !!rec || !!nsNic;
  if (nsExists && !ours)
    throw new OobError('precondition', `namespace "${ns}" was not created by oob (no record in the runtime directory, no NIC marked by oob in it): leaving it alone`);

  if (nsExists) steps.push({ kind: 'kill-ns-pids', ns, title: `stop every process left in ${ns}`, undo: [] });
  if (nsNic) {
    steps.push({ kind: 'ip', ns, args: ['link', 'set', 'dev', nsNic.ifname, 'netns', String(o.hostPid)], title: `move ${nsNic.ifname} back to the host`, undo: [] });
    if (rec) steps.push(...hostRestoreSteps(rec, nsNic.ifname, nsNic.alias));
    else {
      steps.push({ kind: 'ip', ns: null, args: ['link', 'set', 'dev', nsNic.ifname, 'alias', ''], title: `unmark ${nsNic.ifname}`, undo: [] });
      notes.push(`no record of ${nsNic.ifname}'s host configuration: it is back in the host, down and unconfigured`);
    }
  } else {
    const stranded = s.host.links.find(isMarkedFor(ns));
    if (stranded && rec) {
      notes.push(`${stranded.ifname} had already come back to the host (its namespace was deleted behind oob's back): restoring its configuration`);
      steps.push(...hostRestoreSteps(rec, stranded.ifname, stranded.alias));
    } else if (rec && nsExists) notes.push(`${rec.nic.name} is not in ${ns} any more`);
  }
  if (nsExists) steps.push({ kind: 'ip', ns: null, args: ['netns', 'del', ns], title: `delete namespace ${ns}`, undo: [] });
  if (isOurDnsFile(s.dnsFile))
    steps.push(
      { kind: 'remove', path: paths.dnsFile, title: `remove ${paths.dnsFile}`, undo: [] },
      { kind: 'remove', path: paths.dnsDir, dir: true, title: `remove ${paths.dnsDir} if empty`, undo: [] },
    );
  if (rec) steps.push({ kind: 'remove', path: paths.recordFile, title: 'forget the record', undo: [] });
  return { steps, notes };
}
