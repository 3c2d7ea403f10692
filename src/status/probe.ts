// `status --probe` / `doctor --probe`: ask each gateway whether it is there, and leave the neighbour
// table as it was found.
//
// The kernel does the asking. A known entry is set to PROBE at its link-layer address: the kernel
// sends its unicast probes (ucast_probes, 3, one per retrans_time, 1 s). An unknown one (none, or
// FAILED) is marked in use (`ip neigh replace … use`, NTF_USE): the kernel resolves it as if a
// packet were waiting, with broadcast ARP or multicast ND (mcast_probes, 3). Either way the entry
// turns REACHABLE on an answer, FAILED without one. (Probing an unknown IPv6 entry at the
// solicited-node multicast address instead would be answered without a link-layer address, and
// leave the multicast address in the entry as if it were the router's.) Only REACHABLE counts as an answer: an entry still in
// PROBE when the wait is over was not answered either. A static entry (PERMANENT, NOARP) is never
// touched: an admin put it there, and replacing it would remove it. After an unanswered probe the
// entry that was there is put back (its address and state), or removed if there was none; an
// answered probe leaves what the kernel learnt.
import { parseNeigh, type Neighbour } from '../net/ipjson.js';
import { isMarkedFor } from '../observe/nic.js';
import type { Io } from '../sys/io.js';
import { until } from '../sys/until.js';
import type { RawProfile } from './collect.js';

/** What a probe of one gateway found: an answer, none, or a static entry that was left alone. */
export type ProbeResult = 'answered' | 'unanswered' | 'static';

/** How long the kernel's probes may take: 3 unicast probes 1 s apart (the defaults), and some slack. */
export const PROBE_WAIT_MS = 4500;

const neighOf = async (io: Io, ns: string): Promise<Neighbour[]> =>
  parseNeigh((await io.run(['ip', '-n', ns, '-j', 'neigh', 'show'], { allowFail: true })).stdout || '[]');

interface Target {
  p: RawProfile;
  gw: string;
  dev: string;
  before: Neighbour | undefined;
}

const entryOf = (neigh: Neighbour[] | undefined, t: Pick<Target, 'gw' | 'dev'>) =>
  neigh?.find((n) => n.dst === t.gw && (n.dev ?? t.dev) === t.dev);

/** Probe the default gateways of every profile that is up; the results go to p.probes, the neighbours seen to p.ns.neigh. */
export async function probeGateways(io: Io, profiles: RawProfile[], o: { timeoutMs?: number } = {}): Promise<void> {
  const targets: Target[] = [];
  for (const p of profiles) {
    const nic = p.ns?.links.find(isMarkedFor(p.name));
    if (!nic) continue;
    for (const r of p.ns!.routes.filter((x) => x.dst === 'default' && x.gateway && x.table === 'main')) {
      const t = { p, gw: r.gateway!, dev: r.dev ?? nic.ifname };
      const before = entryOf(p.ns!.neigh, t);
      p.probes ??= {};
      if (before && (before.state === 'PERMANENT' || before.state === 'NOARP')) {
        p.probes[t.gw] = 'static';
        continue;
      }
      const how = before?.lladdr ? ['lladdr', before.lladdr, 'nud', 'probe'] : ['use'];
      const set = await io.run(['ip', '-n', p.name, 'neigh', 'replace', t.gw, 'dev', t.dev, ...how], {
        allowFail: true,
      });
      if (set.code !== 0) {
        p.probes[t.gw] = 'unanswered';
        continue;
      }
      targets.push({ ...t, before });
    }
  }
  if (!targets.length) return;
  const namespaces = [...new Set(targets.map((t) => t.p))];
  const settled = (t: Target) => ['REACHABLE', 'FAILED'].includes(entryOf(t.p.ns!.neigh, t)?.state ?? 'FAILED');
  await until(
    async () => {
      await Promise.all(namespaces.map(async (p) => (p.ns!.neigh = await neighOf(io, p.name))));
      return targets.every(settled);
    },
    { intervalMs: 150, timeoutMs: o.timeoutMs ?? PROBE_WAIT_MS },
  );
  for (const t of targets) {
    const answered = entryOf(t.p.ns!.neigh, t)?.state === 'REACHABLE';
    t.p.probes![t.gw] = answered ? 'answered' : 'unanswered';
    if (answered) continue;
    // put back what was there: the known address in its state, or no entry; an entry that had no
    // address (FAILED, INCOMPLETE) is one again
    const b = t.before;
    if (b?.lladdr)
      await io.run(
        [
          'ip',
          '-n',
          t.p.name,
          'neigh',
          'replace',
          t.gw,
          'dev',
          t.dev,
          'lladdr',
          b.lladdr,
          'nud',
          b.state === 'REACHABLE' ? 'reachable' : 'stale',
        ],
        { allowFail: true },
      );
    else if (!b) await io.run(['ip', '-n', t.p.name, 'neigh', 'del', t.gw, 'dev', t.dev], { allowFail: true });
  }
}
