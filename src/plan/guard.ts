// The lock-out guard: would moving this NIC cut the host, or the caller, off? Pure.
//
// The NIC is seen with everything stacked on it (the bridge or bond it is a port of, its VLANs and
// macvlans, and upwards from there): moving it takes their traffic too. The host's traffic is
// seen through its policy rules (in priority order) into every table, not only main.
import { contains, familyOf, parseCidr, plainIp, type Cidr } from '../net/addr.js';
import type { Link, Route, Rule } from '../net/ipjson.js';
import type { NsView, SshSession } from '../observe/types.js';

const metricOf = (r: Route) => r.metric ?? (r.family === 6 ? 1024 : 0);
const usesAny = (r: Route, devs: Set<string>) =>
  (r.dev !== undefined && devs.has(r.dev)) || (r.nexthopDevs?.some((d) => devs.has(d)) ?? false);
const cidrOf = (text: string, fam: 4 | 6): Cidr | undefined => {
  const c = parseCidr(
    text === 'default'
      ? fam === 4
        ? '0.0.0.0/0'
        : '::/0'
      : text.includes('/')
        ? text
        : `${text}/${fam === 4 ? 32 : 128}`,
  );
  return typeof c === 'string' ? undefined : c;
};

/** Kinds whose `link` is the device they send through (a veth's `link` is its peer: not stacked). */
const STACKED = new Set(['vlan', 'macvlan', 'macvtap', 'ipvlan', 'ipvtap', 'macsec']);

/**
 * The NIC and every device whose traffic goes through it, each with how it is tied to the NIC
 * ("ens19 is a port of bridge br0"). Walks upward: masters (bridge, bond, team, VRF; the other
 * ports of an Open vSwitch datapath) and devices stacked on a lower one (VLAN, macvlan, ipvlan).
 */
export function nicStack(nic: Link, links: Link[]): Map<string, string> {
  const byName = new Map(links.map((l) => [l.ifname, l]));
  const how = new Map<string, string>([[nic.ifname, nic.ifname]]);
  const queue = [byName.get(nic.ifname) ?? nic];
  const add = (l: Link, text: string) => {
    if (how.has(l.ifname)) return;
    how.set(l.ifname, text);
    queue.push(l);
  };
  for (let l = queue.shift(); l; l = queue.shift()) {
    const chain = how.get(l.ifname)!;
    const master = l.master !== undefined ? byName.get(l.master) : undefined;
    if (master) {
      add(master, `${chain} is a port of ${master.kind ?? 'master'} ${master.ifname}`);
      if (master.kind === 'openvswitch')
        for (const o of links)
          if (o.master === master.ifname) add(o, `${chain} is a port of the Open vSwitch datapath of ${o.ifname}`);
    }
    for (const u of links)
      if (u.parent === l.ifname && u.kind !== undefined && STACKED.has(u.kind))
        add(u, `${chain} is the lower device of ${u.kind} ${u.ifname}`);
  }
  return how;
}

/** The kernel's rules when none were observed: local, main, default. */
const defaultRules = (family: 4 | 6): Rule[] =>
  (
    [
      [0, 'local'],
      [32766, 'main'],
      [32767, 'default'],
    ] as const
  ).map(([priority, table]) => ({ priority, family, not: false, l3mdev: false, action: 'lookup', table }));
const rulesOf = (rules: Rule[] | undefined, fam: 4 | 6) => {
  const mine = (rules ?? []).filter((r) => r.family === fam);
  return mine.length ? mine : defaultRules(fam);
};
const ruleText = (r: Rule) =>
  `rule ${r.priority}: ${r.not ? 'not ' : ''}from ${r.src ?? 'all'}${r.dst ? ` to ${r.dst}` : ''}${r.iif ? ` iif ${r.iif}` : ''}${r.oif ? ` oif ${r.oif}` : ''}${r.fwmark !== undefined ? ` fwmark ${r.fwmark}` : ''}${r.uid ? ` uidrange ${r.uid.join('-')}` : ''}${r.ipproto ? ` ipproto ${r.ipproto}` : ''}${r.sport ? ` sport ${r.sport.join('-')}` : ''}${r.dport ? ` dport ${r.dport.join('-')}` : ''} lookup ${r.table}`;

/** The route a table gives `ip` (longest prefix, then lowest metric), any type; ignoring prefixes of `suppress` bits or fewer. */
function lookupIn(routes: Route[], table: string, ip: string, suppress?: number): Route | undefined {
  const fam = familyOf(ip);
  let best: { r: Route; len: number } | undefined;
  for (const r of routes) {
    if (r.table !== table || r.family !== fam) continue;
    const c = cidrOf(r.dst, r.family);
    if (!c || !contains(c, ip) || (suppress !== undefined && c.prefixlen <= suppress)) continue;
    if (!best || c.prefixlen > best.len || (c.prefixlen === best.len && metricOf(r) < metricOf(best.r)))
      best = { r, len: c.prefixlen };
  }
  return best?.r;
}

/** A packet the host sends: what a rule's selectors are matched against. */
interface Flow {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

/**
 * Does the rule select this locally sent TCP packet? Sent by the host: iif is lo, no oif (the
 * socket is not bound to a device), no firewall mark, uid 0 (sshd's), no TOS, no VRF.
 */
function selects(r: Rule, f: Flow): boolean {
  const inRange = (range: [number, number] | undefined, v: number | undefined) =>
    !range || (v !== undefined && v >= range[0] && v <= range[1]);
  const prefix = (p: string | undefined, ip: string) =>
    !p || (cidrOf(p, r.family) ? contains(cidrOf(p, r.family)!, ip) : false);
  const m =
    prefix(r.src, f.src) &&
    prefix(r.dst, f.dst) &&
    (r.iif === undefined || r.iif === 'lo') &&
    r.oif === undefined &&
    (r.fwmark === undefined || (r.fwmark & (r.fwmask ?? 0xffffffff)) === 0) &&
    inRange(r.uid, 0) &&
    (r.ipproto === undefined || r.ipproto === 'tcp' || r.ipproto === '6') &&
    inRange(r.sport, f.sport) &&
    inRange(r.dport, f.dport) &&
    r.tos === undefined &&
    !r.l3mdev;
  return r.not ? !m : m;
}

/** The route the kernel picks for a packet the host sends: rules in priority order, then each rule's table. */
export function resolveRoute(
  view: Pick<NsView, 'routes' | 'rules'>,
  f: Flow,
): { route: Route; rule: Rule } | undefined {
  const fam = familyOf(f.dst);
  if (!fam) return undefined;
  const rules = rulesOf(view.rules, fam);
  for (let i = 0, jumps = 0; i < rules.length && jumps < 256; i++) {
    const r = rules[i]!;
    if (!selects(r, f)) continue;
    if (r.action === 'nop') continue;
    if (r.action === 'goto') {
      const to = rules.findIndex((x) => x.priority === r.goto); // none: the kernel skips the goto
      if (to < 0) continue;
      if (to <= i) return undefined;
      i = to - 1;
      jumps++;
      continue;
    }
    if (r.action !== 'lookup') return undefined; // blackhole, unreachable, prohibit
    if (r.table === undefined) continue; // l3mdev: a VRF's table, not the host's traffic
    const route = lookupIn(view.routes, r.table, f.dst, r.suppressPrefixlen);
    if (!route || route.type === 'throw') continue;
    return { route, rule: r };
  }
  return undefined;
}

/** Could a rule's selectors take some of the host's own traffic (not only the NIC's, and not only to some destinations)? */
function takesHostTraffic(r: Rule, nic: Link, host: Link[]): boolean {
  if (r.l3mdev || r.table === undefined || r.dst) return false;
  if (r.not) return true;
  if (r.iif !== undefined && r.iif !== 'lo') return r.iif !== nic.ifname; // forwarded traffic from another link
  if (r.oif === nic.ifname) return false;
  if (!r.src) return true;
  const c = cidrOf(r.src, r.family);
  return (
    !!c &&
    host.some(
      (l) => l.ifname !== nic.ifname && l.addrs.some((a) => a.scope !== 'link' && contains(c, plainIp(a.local))),
    )
  );
}
const catchesAll = (r: Rule) =>
  !r.not &&
  !r.src &&
  !r.dst &&
  (r.iif === undefined || r.iif === 'lo') &&
  r.oif === undefined &&
  r.fwmark === undefined &&
  !r.uid &&
  r.ipproto === undefined &&
  !r.sport &&
  !r.dport &&
  r.tos === undefined &&
  !r.l3mdev;

/** A table's preferred default route of a family (lowest metric), unless the rule suppresses it. */
function defaultOf(routes: Route[], table: string, fam: 4 | 6, suppress?: number): Route | undefined {
  if (suppress !== undefined && suppress >= 0) return undefined;
  const ds = routes.filter((r) => r.table === table && r.dst === 'default' && r.family === fam);
  return ds.length ? ds.reduce((a, b) => (metricOf(b) < metricOf(a) ? b : a)) : undefined;
}

/** The host as the guard needs it: links, routes of every table, rules. A bare route list means: table main only, no other links. */
export type GuardView = Pick<NsView, 'links' | 'routes' | 'rules'>;

export function lockoutReasons(nic: Link, host: GuardView | Route[], ssh?: SshSession): string[] {
  const view: GuardView = Array.isArray(host) ? { links: [nic], routes: host } : host;
  const stack = nicStack(nic, view.links);
  const devs = new Set(stack.keys());
  const through = (r: Route) => [r.dev, ...(r.nexthopDevs ?? [])].find((d) => d !== undefined && devs.has(d))!;
  /** "ens19" or "ens19 is a port of bridge br0, which" */
  const subject = (dev: string) => (dev === nic.ifname ? nic.ifname : `${stack.get(dev)}, which`);
  const via = (r: Route) =>
    `default${r.gateway ? ` via ${r.gateway}` : ''} dev ${through(r)}${r.table !== 'main' ? ` table ${r.table}` : ''}`;
  const reasons: string[] = [];

  for (const fam of [4, 6] as const) {
    // Walk the rules as the kernel does: the first rule that catches all the host's traffic and
    // whose table has a default route decides the host's way out; rules before it that select part
    // of the host's traffic (from one of its addresses, a mark, a user...) send that part by their
    // table's default.
    const rules = rulesOf(view.rules, fam);
    for (let i = 0, jumps = 0; i < rules.length && jumps < 256; i++) {
      const r = rules[i]!;
      if (r.action === 'goto' && catchesAll(r)) {
        const to = rules.findIndex((x) => x.priority === r.goto); // none: the kernel skips the goto
        if (to < 0) continue;
        if (to <= i) break;
        i = to - 1;
        jumps++;
        continue;
      }
      if (r.action !== 'lookup' || r.table === undefined) {
        if (catchesAll(r) && r.action !== 'nop' && r.action !== 'goto') break; // blackhole & co.: no way out further down
        continue;
      }
      const d = defaultOf(view.routes, r.table, fam, r.suppressPrefixlen);
      if (!d || d.type === 'throw') continue;
      if (catchesAll(r)) {
        if (d.type === 'unicast' && usesAny(d, devs))
          reasons.push(
            `${subject(through(d))} carries the host's IPv${fam} default route (${via(d)}${r.table !== 'main' ? `, chosen by ${ruleText(r)}` : ''}): moving it would cut the host off`,
          );
        break;
      }
      if (d.type === 'unicast' && usesAny(d, devs) && takesHostTraffic(r, nic, view.links))
        reasons.push(
          `${subject(through(d))} carries the IPv${fam} default route of table ${r.table} (${via(d)}), where ${ruleText(r)} sends the host's traffic: moving it would cut that traffic off`,
        );
    }
  }

  if (ssh) {
    const local = plainIp(ssh.local),
      client = plainIp(ssh.client);
    const session = `your SSH session (${describeSession(ssh)})`;
    const linkOf = (d: string) => view.links.find((l) => l.ifname === d) ?? (d === nic.ifname ? nic : undefined);
    const holder = [...devs].find((d) => linkOf(d)?.addrs.some((a) => plainIp(a.local) === local));
    if (holder)
      reasons.push(`${subject(holder)} holds ${local}, the local address of ${session}: moving it would cut you off`);
    else {
      const hit = resolveRoute(view, {
        src: local,
        dst: client,
        ...(ssh.localPort !== undefined ? { sport: ssh.localPort } : {}),
        ...(ssh.clientPort !== undefined ? { dport: ssh.clientPort } : {}),
      });
      if (hit && hit.route.type === 'unicast' && usesAny(hit.route, devs)) {
        const dev = through(hit.route);
        const where = hit.rule.table !== 'main' ? ` (table ${hit.rule.table}, by ${ruleText(hit.rule)})` : '';
        const tie = dev === nic.ifname ? '' : `, and ${stack.get(dev)}`;
        reasons.push(
          `your SSH session's replies to ${client} leave through ${dev}${where}${tie} (${describeSession(ssh)}): moving it would cut you off`,
        );
      }
    }
  }
  return reasons;
}

/** How a message names the session: the sshd found in the process tree, or SSH_CONNECTION. */
export function describeSession(s: SshSession): string {
  const from = `from ${plainIp(s.client)}${s.clientPort !== undefined ? ` port ${s.clientPort}` : ''}`;
  return s.found?.by === 'sshd' ? `sshd pid ${s.found.pid}, ${from}` : `SSH_CONNECTION, ${from}`;
}
