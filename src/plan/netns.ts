// `up` of a profile without a physical NIC (the tutorial's red and blue): a namespace reached only
// through its veth. No NIC to move, no NIC record, nothing for the lock-out guard: the namespace,
// oob's record that it created it (RUNTIME/NAME, see state/record.ts NsRecord), lo, and the DNS
// file. The veth, the bridge and the routes are planned by plan/links.ts as for every profile. Pure.
import { OobError } from '../errors.js';
import { cidrText } from '../net/addr.js';
import { isMarkedFor } from '../observe/nic.js';
import type { Observation } from '../observe/types.js';
import type { Profile } from '../profile/types.js';
import type { RuntimePaths } from '../state/layout.js';
import type { NsRecord } from '../state/record.js';
import type { Step, UpPlan } from './types.js';

const ip = (ns: string | null, args: string[], title: string, undo: Step[] = []): Step => ({
  kind: 'ip',
  ns,
  args,
  title,
  undo,
});

/** Is the namespace oob's: its record of it (a NIC's, or a namespace-only one) says oob created it. */
export const nsRecorded = (ns: string, s: Observation) =>
  (s.record?.profile === ns && s.record.createdNamespace) || s.nsRecord?.profile === ns;

export function planNamespaceUp(
  p: Profile,
  s: Observation,
  paths: Pick<RuntimePaths, 'nsRecordFile'>,
  o: { now: string },
  dns: Step[],
): UpPlan {
  const ns = p.name;
  const ours = nsRecorded(ns, s);
  if (s.nsStale !== undefined && !ours) throw new OobError('precondition', s.nsStale);
  const nsExists = s.namespaces.includes(ns) && s.nsStale === undefined;
  if (nsExists && !ours)
    throw new OobError(
      'precondition',
      `a network namespace "${ns}" exists that oob did not create: oob will not take it over; remove it (ip netns del ${ns}) if it is stale, or rename the profile`,
    );
  // the profile named a NIC before, and that NIC is still in the namespace (or its record is kept)
  const oldNic = s.ns?.links.find(isMarkedFor(ns));
  if (oldNic || s.record)
    throw new OobError(
      'precondition',
      `${oldNic?.ifname ?? s.record!.nic.name} is ${ns}'s NIC from before, and ${p.file} names no NIC now: run "oob down ${ns}" first (it returns the NIC to the host), then "oob up ${ns}"`,
    );
  const steps: Step[] = [];
  if (!s.nsRecord) {
    const rec: NsRecord = { version: 1, profile: ns, hostNetns: s.hostNetns, at: o.now };
    steps.push({
      kind: 'write',
      path: paths.nsRecordFile,
      content: JSON.stringify(rec, null, 2) + '\n',
      mode: 0o600,
      title: `record that oob creates namespace ${ns}`,
      undo: [{ kind: 'remove', path: paths.nsRecordFile, title: 'forget the namespace record', undo: [] }],
    });
  }
  if (s.nsStale !== undefined)
    steps.push(ip(null, ['netns', 'del', ns], `remove the ${ns} left unmounted by an interrupted "ip netns add"`));
  if (!nsExists)
    steps.push(
      ip(null, ['netns', 'add', ns], `create namespace ${ns}`, [
        ip(null, ['netns', 'del', ns], `delete namespace ${ns}`),
      ]),
    );
  if (!s.ns?.links.find((l) => l.ifname === 'lo')?.up)
    steps.push(ip(ns, ['link', 'set', 'dev', 'lo', 'up'], 'bring lo up'));
  steps.push(...dns);
  return {
    steps,
    notes: [],
    overridden: [],
    addresses: (p.links?.veth?.addresses ?? []).map(cidrText),
    gateways: [],
  };
}
