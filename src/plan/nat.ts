// [nat] and [forward] -> nftables and sysctl steps, each with its undo. Pure.
//
// One table per profile and side, `inet oob-NAME` (inet: one table for both families; the host's
// side is IPv4 only, see profile/nat.ts), loaded whole in one `nft -f` transaction that creates,
// deletes and defines it again: a changed profile replaces the table atomically, and no other table
// is ever named. A table is oob's when the profile's NAT record (state/nat.ts) says oob loaded it;
// the record is written before the table and the sysctls, and holds the script loaded and the
// value each sysctl had before, so `down` (without the profile) and an undo put back exactly that.
//
// IP forwarding is turned on only on the side that routes: the namespace for its own [nat]/[forward]
// namespace entries, the host for its entries. The host's switch is shared by every profile whose
// record has it: each records the value from before the first of them, and the last one down puts
// it back (the shared bridge's rule).
import { OobError } from '../errors.js';
import { tableShape, type NftChain, type NftRule } from '../net/nft.js';
import { FORWARD_SYSCTLS, type NatObservation, type NatSideView } from '../observe/nat.js';
import { forwardComment, forwardText, hostPort, masqueradeComment, routedFamilies, type Side } from '../profile/nat.js';
import type { Profile } from '../profile/types.js';
import type { NatRecord, NatSideRecord } from '../state/nat.js';
import { cidrText } from '../net/addr.js';
import { natTable, type RuntimePaths } from '../state/layout.js';
import type { Step } from './types.js';

const CHAINS: NftChain[] = [
  { name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' },
  { name: 'prerouting', type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' },
];

/** The rules of one side, by chain, each with the comment that names it. */
function rulesOf(p: Profile, side: Side): { pre: [string, string][]; post: [string, string][] } {
  const nat = p.nat;
  const pre: [string, string][] = [];
  const post: [string, string][] = [];
  for (const f of nat?.forwards.filter((x) => x.side === side) ?? []) {
    const ipf = f.family === 4 ? 'ip' : 'ip6';
    // without an address: the side's own addresses only, never traffic routed through it
    const match = f.listen
      ? `${ipf} daddr ${f.listen}`
      : `meta nfproto ${f.family === 4 ? 'ipv4' : 'ipv6'} fib daddr type local`;
    pre.push([`${match} ${f.proto} dport ${f.port} dnat ${ipf} to ${hostPort(f.to, f.toPort)}`, forwardComment(f)]);
  }
  for (const m of nat?.masquerade.filter((x) => x.side === side) ?? [])
    post.push([
      `${m.subnet.family === 4 ? 'ip' : 'ip6'} saddr ${cidrText(m.subnet)} oifname "${m.out}" masquerade`,
      masqueradeComment(m),
    ]);
  return { pre, post };
}

/** The table oob loads on one side, or undefined when the profile has nothing there. */
export function renderTable(p: Profile, side: Side): string | undefined {
  const { pre, post } = rulesOf(p, side);
  if (!pre.length && !post.length) return undefined;
  const chain = (c: NftChain, rules: [string, string][]) => [
    `\tchain ${c.name} {`,
    `\t\ttype nat hook ${c.hook} priority ${c.hook === 'prerouting' ? 'dstnat' : 'srcnat'}; policy accept;`,
    ...rules.map(([r, comment]) => `\t\t${r} comment "${comment}"`),
    '\t}',
  ];
  return [
    `table inet ${natTable(p.name)} {`,
    `\tcomment "oob: profile ${p.name}; edit the profile, not this table"`,
    ...chain(CHAINS[1]!, pre),
    ...chain(CHAINS[0]!, post),
    '}',
    '',
  ].join('\n');
}

/** The shape renderTable's table has once loaded (net/nft.ts tableShape). */
export function renderedShape(p: Profile, side: Side): string {
  const { pre, post } = rulesOf(p, side);
  const rules: NftRule[] = [
    ...pre.map(([, comment]) => ({ chain: 'prerouting', comment })),
    ...post.map(([, comment]) => ({ chain: 'postrouting', comment })),
  ];
  return tableShape({ chains: CHAINS, rules });
}

/** Replace the table whole in one transaction: create it (if missing), delete it, define it. */
export const replaceScript = (profile: string, script: string) =>
  `table inet ${natTable(profile)}\ndelete table inet ${natTable(profile)}\n${script}`;
export const deleteScript = (profile: string) =>
  `table inet ${natTable(profile)}\ndelete table inet ${natTable(profile)}\n`;

const nft = (ns: string | null, script: string, title: string, undo: Step[] = [], id?: string): Step => ({
  kind: 'nft',
  ns,
  script,
  title,
  undo,
  ...(id ? { id } : {}),
});
const sysctl = (
  ns: string | null,
  key: string,
  value: string,
  title: string,
  undo: Step[] = [],
  id?: string,
): Step => ({
  kind: 'sysctl',
  ns,
  key,
  value,
  title,
  undo,
  ...(id ? { id } : {}),
});

const familiesOf = (p: Profile, side: Side) => routedFamilies(p.nat, side);

const where = (p: string, side: Side) => (side === 'host' ? 'the host' : `namespace ${p}`);

export interface NatUpPlan {
  steps: Step[];
  notes: string[];
  overridden: string[];
}

/** The lock-out guard of forwards: one that takes an SSH port of the side it listens on. */
function sshReasons(p: Profile, v: NatObservation, side: Side, present: Set<string>): string[] {
  const ports =
    side === 'host'
      ? new Set([22, ...v.sshPorts])
      : new Set([22, ...p.services.flatMap((s) => (s.ready.kind === 'tcp' ? [s.ready.port] : []))]);
  return (p.nat?.forwards ?? [])
    .filter((f) => f.side === side && f.proto === 'tcp' && ports.has(f.port) && !present.has(forwardComment(f)))
    .map((f) =>
      side === 'host'
        ? `[forward] host "${forwardText(f)}" takes TCP port ${f.port}, the host's SSH port (sshd listens on it, or your session came in on it): SSH to the host would reach ${f.to} instead`
        : `[forward] namespace "${forwardText(f)}" takes TCP port ${f.port}, an SSH or service port of namespace ${p.name}: the way in to it would reach ${f.to} instead`,
    );
}

/**
 * The NAT steps of every profile of one `up` call (appended to its other steps). `views[i]`
 * undefined: profile i has no [nat]/[forward] and no record (nothing to do).
 */
export function planNatUp(
  profiles: Profile[],
  views: (NatObservation | undefined)[],
  paths: Pick<RuntimePaths, 'natFile'>[],
  force: boolean,
): NatUpPlan[] {
  const inCall = new Set(profiles.map((p) => p.name));
  const neededInCall = new Set<string>(profiles.flatMap((p) => familiesOf(p, 'host').map((f) => FORWARD_SYSCTLS[f])));
  const hostSet = new Map<string, string>(); // host sysctls set by this call -> their value before
  return profiles.map((p, i): NatUpPlan => {
    const v = views[i];
    const out: NatUpPlan = { steps: [], notes: [], overridden: [] };
    if (!v) return out;
    const rec = v.record;
    const others = v.others.filter((o) => !inCall.has(o.profile));
    const next: NatRecord = { version: 1, profile: p.name };
    const work: Step[] = [];
    for (const side of ['namespace', 'host'] as const) {
      const ns = side === 'host' ? null : p.name;
      const view: NatSideView | undefined = side === 'host' ? v.host : v.ns;
      const had: NatSideRecord | undefined = rec?.[side];
      const script = renderTable(p, side);
      const table = view?.table;
      if (table && !had?.script)
        throw new OobError(
          'precondition',
          `a table inet ${natTable(p.name)} exists in ${where(p.name, side)} and oob did not create it (no record of it): oob will not replace it; delete it if it is stale (${side === 'namespace' ? `ip netns exec ${p.name} ` : ''}nft delete table inet ${natTable(p.name)}), or rename the profile`,
        );
      const sideRec: NatSideRecord = { script: script ?? '', sysctls: {} };
      if (script && !(table && tableShape(table) === renderedShape(p, side))) {
        const present = new Set((table?.rules ?? []).map((r) => r.comment ?? ''));
        const reasons = sshReasons(p, v, side, present);
        if (reasons.length && !force)
          throw new OobError('lockout', `refusing ${p.file}: ${reasons[0]}`, [
            ...reasons.slice(1),
            'if that is really meant (you are on a console), run again with --force',
          ]);
        for (const r of reasons) {
          out.notes.push(`--force: ${r}`);
          out.overridden.push(r);
        }
        work.push(
          nft(
            ns,
            replaceScript(p.name, script),
            `load table inet ${natTable(p.name)} in ${where(p.name, side)} (${[...p.nat!.masquerade, ...p.nat!.forwards].filter((x) => x.side === side).length} rule(s))`,
            [
              table && had?.script
                ? nft(ns, replaceScript(p.name, had.script), `put back the previous table inet ${natTable(p.name)}`)
                : nft(ns, deleteScript(p.name), `delete table inet ${natTable(p.name)}`),
            ],
          ),
        );
      } else if (!script && table && had?.script)
        work.push(
          nft(
            ns,
            deleteScript(p.name),
            `delete table inet ${natTable(p.name)} from ${where(p.name, side)} (no [nat]/[forward] there now)`,
            [nft(ns, replaceScript(p.name, had.script), `put back table inet ${natTable(p.name)}`)],
          ),
        );

      // forwarding: on where the side routes, back to its value before where it no longer does
      const want: string[] = familiesOf(p, side).map((f) => FORWARD_SYSCTLS[f]);
      const current = (k: string) => view?.sysctls[k] ?? '0'; // a namespace oob is about to create: the kernel's default
      for (const key of want) {
        const sharedBefore = side === 'host' ? others.find((o) => o.host?.sysctls[key] !== undefined) : undefined;
        const before =
          had?.sysctls[key] ??
          sharedBefore?.host?.sysctls[key] ??
          (side === 'host' ? hostSet.get(key) : undefined) ??
          current(key);
        sideRec.sysctls[key] = before;
        if (current(key) === '1' || (side === 'host' && hostSet.has(key))) continue;
        work.push(
          sysctl(ns, key, '1', `turn on ${key} in ${where(p.name, side)} (it routes for [nat]/[forward])`, [
            sysctl(ns, key, current(key), `put back ${key} = ${current(key)}`),
          ]),
        );
        if (side === 'host') hostSet.set(key, before);
      }
      for (const [key, before] of Object.entries(had?.sysctls ?? {})) {
        if (want.includes(key)) continue;
        const stillUsed =
          side === 'host' && (neededInCall.has(key) || others.some((o) => o.host?.sysctls[key] !== undefined));
        if (stillUsed || current(key) === before) continue;
        work.push(
          sysctl(ns, key, before, `put back ${key} = ${before} in ${where(p.name, side)} (no longer needed)`, [
            sysctl(ns, key, current(key), `${key} = ${current(key)} again`),
          ]),
        );
      }
      if (sideRec.script || Object.keys(sideRec.sysctls).length) next[side] = sideRec;
    }

    const empty = !next.host && !next.namespace;
    const text = JSON.stringify(next, null, 2) + '\n';
    const old = rec ? JSON.stringify(rec, null, 2) + '\n' : undefined;
    const undoRecord: Step =
      old !== undefined
        ? {
            kind: 'write',
            path: paths[i]!.natFile,
            content: old,
            mode: 0o600,
            title: 'put back the NAT record',
            undo: [],
          }
        : { kind: 'remove', path: paths[i]!.natFile, title: 'forget the NAT record', undo: [] };
    if (empty && old !== undefined) {
      // nothing of oob's left: the undos first, then the record goes
      out.steps.push(...work, {
        kind: 'remove',
        path: paths[i]!.natFile,
        title: 'forget the NAT record',
        undo: [undoRecord],
      });
    } else if (!empty && text !== old) {
      out.steps.push(
        {
          kind: 'write',
          path: paths[i]!.natFile,
          content: text,
          mode: 0o600,
          title: 'record the NAT tables and sysctls',
          undo: [undoRecord],
        },
        ...work,
      );
    } else out.steps.push(...work);
    return out;
  });
}

/**
 * The NAT steps of `down` (from the records alone): delete oob's table in the host, put back the
 * host's forwarding when no profile that stays up needs it, forget the record. The namespace's
 * table and sysctls go with the namespace.
 */
export function planNatDown(
  names: string[],
  views: (NatObservation | undefined)[],
  paths: Pick<RuntimePaths, 'natFile'>[],
): Step[][] {
  const going = new Set(names);
  return names.map((ns, i) => {
    const v = views[i];
    const rec = v?.record;
    if (!v || !rec) return [];
    const steps: Step[] = [];
    const ids: string[] = [];
    if (rec.host?.script && (v.host.table || v.host.unread)) {
      ids.push(`${ns}:nat-table`);
      steps.push(nft(null, deleteScript(ns), `delete table inet ${natTable(ns)} from the host`, [], `${ns}:nat-table`));
    }
    for (const [key, before] of Object.entries(rec.host?.sysctls ?? {})) {
      const stays = v.others.some((o) => !going.has(o.profile) && o.host?.sysctls[key] !== undefined);
      const later = names.slice(i + 1).some((n) => views[names.indexOf(n)]?.record?.host?.sysctls[key] !== undefined);
      if (stays || later || v.host.sysctls[key] === before) continue;
      ids.push(`${ns}:sysctl:${key}`);
      steps.push(
        sysctl(
          null,
          key,
          before,
          `put back ${key} = ${before} in the host (no profile up needs it now)`,
          [],
          `${ns}:sysctl:${key}`,
        ),
      );
    }
    steps.push({
      kind: 'remove',
      path: paths[i]!.natFile,
      title: 'forget the NAT record',
      undo: [],
      id: `${ns}:nat-forget`,
      ...(ids.length ? { needs: ids } : {}),
    });
    return steps;
  });
}
