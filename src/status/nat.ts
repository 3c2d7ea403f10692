// [nat]/[forward] in status and doctor: each masquerade and forward, present or not (read back from
// nftables: the rule with its comment in oob's table), and IP forwarding where a side routes. Pure.
import { cidrText } from '../net/addr.js';
import { FORWARD_SYSCTLS, type NatSideView } from '../observe/nat.js';
import { forwardComment, masqueradeComment, routedFamilies, type Side } from '../profile/nat.js';
import { natTable } from '../state/layout.js';
import type { RawProfile } from './collect.js';
import type { Check, Verdict } from './doctor.js';

export interface NatStatus {
  nat: Array<{ side: Side; subnet: string; out: string; present: boolean }>;
  forwards: Array<{
    side: Side;
    proto: string;
    listen: string | null;
    port: number;
    to: string;
    toPort: number;
    present: boolean;
  }>;
  /** Forwarding on each side that routes (null: that side routes nothing for the profile). */
  ipForward: { host: boolean | null; namespace: boolean | null };
}

const viewOf = (p: RawProfile, side: Side): NatSideView | undefined => (side === 'host' ? p.nat?.host : p.nat?.ns);
/** oob's table on a side, when a record claims it (a table of that name no record claims is not oob's). */
const ourTable = (p: RawProfile, side: Side) => (p.nat?.record?.[side]?.script ? viewOf(p, side)?.table : undefined);
const hasRule = (p: RawProfile, side: Side, comment: string) =>
  (ourTable(p, side)?.rules ?? []).some((r) => r.comment === comment);

function forwarding(p: RawProfile, side: Side): boolean | null {
  const fams = routedFamilies(p.profile?.nat, side);
  if (!fams.length) return null;
  const view = viewOf(p, side);
  return fams.every((f) => view?.sysctls[FORWARD_SYSCTLS[f]] === '1');
}

export function natStatus(p: RawProfile): NatStatus {
  const n = p.profile?.nat;
  return {
    nat: (n?.masquerade ?? []).map((m) => ({
      side: m.side,
      subnet: cidrText(m.subnet),
      out: m.out,
      present: hasRule(p, m.side, masqueradeComment(m)),
    })),
    forwards: (n?.forwards ?? []).map((f) => ({
      side: f.side,
      proto: f.proto,
      listen: f.listen ?? null,
      port: f.port,
      to: f.to,
      toPort: f.toPort,
      present: hasRule(p, f.side, forwardComment(f)),
    })),
    ipForward: { host: forwarding(p, 'host'), namespace: p.ns ? forwarding(p, 'namespace') : null },
  };
}

/** What status says is wrong (each makes the profile degraded: the way in, its NIC, still works). */
export function natProblems(p: RawProfile, st: NatStatus): string[] {
  if (!p.ns || !p.profile?.nat) return [];
  if (p.natError) return [`nftables: ${p.natError}`];
  const out: string[] = [];
  const missing = [
    ...st.nat.filter((m) => !m.present).map((m) => `masquerade ${m.subnet} out ${m.out} (${m.side})`),
    ...st.forwards
      .filter((f) => !f.present)
      .map((f) => `forward ${f.proto} ${f.port} to ${f.to}:${f.toPort} (${f.side})`),
  ];
  if (missing.length) out.push(`NAT rules missing: ${missing.join(', ')}`);
  for (const side of ['host', 'namespace'] as const)
    if (st.ipForward[side] === false) out.push(`IP forwarding is off in ${side === 'host' ? 'the host' : p.name}`);
  return out;
}

/** doctor's checklist items: NAT rules per side, IP forwarding per side that routes. */
export function natChecks(p: RawProfile): Check[] {
  const out: Check[] = [];
  const add = (verdict: Verdict, check: string, detail: string, fix?: string) =>
    out.push({ verdict, check, detail, ...(fix ? { fix } : {}) });
  const n = p.profile?.nat;
  if (!n || !p.ns) return out;
  const up = `oob up ${p.name}`;
  if (p.natError) {
    add('FAIL', 'NAT rules', p.natError, 'apt-get install nftables');
    return out;
  }
  const st = natStatus(p);
  const table = `table inet ${natTable(p.name)}`;
  for (const side of ['host', 'namespace'] as const) {
    const where = side === 'host' ? 'the host' : `namespace ${p.name}`;
    const masq = st.nat.filter((m) => m.side === side);
    const fwd = st.forwards.filter((f) => f.side === side);
    if (!masq.length && !fwd.length) continue;
    const view = viewOf(p, side);
    const missing = [
      ...masq.filter((m) => !m.present).map((m) => `masquerade ${m.subnet} out ${m.out}`),
      ...fwd.filter((f) => !f.present).map((f) => `forward ${f.proto} ${f.port} to ${f.to}:${f.toPort}`),
    ];
    if (!view?.table) add('FAIL', 'NAT rules', `no ${table} in ${where}`, up);
    else if (!ourTable(p, side))
      add(
        'FAIL',
        'NAT rules',
        `${table} in ${where} was not loaded by oob (no record of it)`,
        `delete it (${side === 'namespace' ? `ip netns exec ${p.name} ` : ''}nft delete ${table}), then ${up}`,
      );
    else if (missing.length) add('FAIL', 'NAT rules', `${table} in ${where} lacks: ${missing.join(', ')}`, up);
    else add('PASS', 'NAT rules', `${masq.length} masquerade, ${fwd.length} forward in ${table} in ${where}`);
  }
  for (const side of ['host', 'namespace'] as const) {
    const fams = routedFamilies(n, side);
    if (!fams.length) continue;
    const where = side === 'host' ? 'the host' : p.name;
    const view = viewOf(p, side);
    for (const f of fams) {
      const key = FORWARD_SYSCTLS[f];
      const v = view?.sysctls[key];
      if (v === '1') add('PASS', 'IP forwarding', `${key} = 1 in ${where} (its [nat]/[forward] route through it)`);
      else
        add(
          'FAIL',
          'IP forwarding',
          `${key} is ${v ?? 'unreadable'} in ${where}: its [nat]/[forward] entries route through it`,
          up,
        );
    }
  }
  return out;
}
