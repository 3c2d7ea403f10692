// Typed views of `ip -j` output. Pure: takes the JSON text iproute2 printed.
import { canonicalIp } from './addr.js';

export interface AddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
  broadcast?: string;
  /** DHCP/SLAAC addresses have a finite lifetime; static ones are "forever". */
  dynamic: boolean;
  /** Flags `ip addr add` takes back: noprefixroute, nodad, home, mngtmpaddr (absent when none). */
  flags?: string[];
  /** A privacy (temporary) address: made by the kernel, never added by hand. */
  temporary?: boolean;
}

/** The address flags that `ip addr add` accepts, as `ip -j` names them. */
export const ADDR_FLAGS = ['noprefixroute', 'nodad', 'home', 'mngtmpaddr'] as const;

export interface Link {
  ifindex: number;
  ifname: string;
  mac: string;
  /** Permanent hardware address, when the driver reports one that differs. */
  permaddr?: string;
  flags: string[];
  up: boolean;
  carrier: boolean;
  operstate: string;
  mtu: number;
  alias?: string;
  kind?: string;
  /** The bridge, bond, team or VRF this link is a port of (ip's "master"). */
  master?: string;
  /** ip's "link", when in the same namespace: a VLAN's or macvlan's lower device (a veth's peer). */
  parent?: string;
  addrs: AddrInfo[];
}

export interface Route {
  type: string; // unicast, local, broadcast, multicast...
  dst: string; // "default" or a prefix
  gateway?: string;
  dev?: string;
  /** Devices of a multipath route's next hops. */
  nexthopDevs?: string[];
  table: string; // "main" when ip leaves it out
  protocol: string;
  scope: string;
  metric?: number;
  prefsrc?: string;
  family: 4 | 6;
}

type Json = Record<string, unknown>;

function addrFlags(a: Json): Pick<AddrInfo, 'flags' | 'temporary'> {
  const flags = ADDR_FLAGS.filter((f) => a[f] === true);
  return { ...(flags.length ? { flags } : {}), ...(a.temporary === true ? { temporary: true } : {}) };
}

export function parseLinks(json: string): Link[] {
  const arr = JSON.parse(json || '[]') as Json[];
  return arr.map((l) => {
    const flags = (l.flags as string[] | undefined) ?? [];
    const linkinfo = l.linkinfo as Json | undefined;
    const addrs = ((l.addr_info as Json[] | undefined) ?? [])
      .filter((a) => a.family === 'inet' || a.family === 'inet6')
      .map((a) => ({
        family: a.family as 'inet' | 'inet6',
        local: canonicalIp(String(a.local)),
        prefixlen: Number(a.prefixlen),
        scope: String(a.scope ?? 'global'),
        ...(a.broadcast ? { broadcast: String(a.broadcast) } : {}),
        dynamic: a.dynamic === true || (typeof a.valid_life_time === 'number' && a.valid_life_time !== 4294967295),
        ...addrFlags(a),
      }));
    return {
      ifindex: Number(l.ifindex),
      ifname: String(l.ifname),
      mac: String(l.address ?? '').toLowerCase(),
      ...(l.permaddr ? { permaddr: String(l.permaddr).toLowerCase() } : {}),
      flags,
      up: flags.includes('UP'),
      carrier: flags.includes('LOWER_UP'),
      operstate: String(l.operstate ?? 'UNKNOWN'),
      mtu: Number(l.mtu),
      ...(typeof l.ifalias === 'string' && l.ifalias !== '' ? { alias: l.ifalias } : {}),
      ...(linkinfo?.info_kind ? { kind: String(linkinfo.info_kind) } : {}),
      ...(typeof l.master === 'string' ? { master: l.master } : {}),
      ...(typeof l.link === 'string' ? { parent: l.link } : {}),
      addrs,
    };
  });
}

export function parseRoutes(json: string): Route[] {
  const arr = JSON.parse(json || '[]') as Json[];
  return arr.map((r) => {
    const dst = String(r.dst ?? 'default');
    const gw = r.gateway ? canonicalIp(String(r.gateway)) : undefined;
    const family: 4 | 6 = dst.includes(':') || (gw?.includes(':') ?? false) ? 6 : 4;
    return {
      type: String(r.type ?? 'unicast'),
      dst,
      ...(gw ? { gateway: gw } : {}),
      ...(r.dev ? { dev: String(r.dev) } : {}),
      ...(Array.isArray(r.nexthops) ? { nexthopDevs: (r.nexthops as Json[]).map((h) => String(h.dev)) } : {}),
      table: String(r.table ?? 'main'),
      protocol: String(r.protocol ?? 'boot'),
      scope: String(r.scope ?? 'global'),
      ...(typeof r.metric === 'number' ? { metric: r.metric } : {}),
      ...(r.prefsrc ? { prefsrc: String(r.prefsrc) } : {}),
      family,
    };
  });
}

/** A policy routing rule (`ip -j rule show`). Absent selectors match everything. */
export interface Rule {
  priority: number;
  family: 4 | 6;
  /** `not`: the selectors are inverted. */
  not: boolean;
  /** Source and destination prefixes ("10.0.0.0/8"), absent for "all". */
  src?: string;
  dst?: string;
  iif?: string;
  oif?: string;
  fwmark?: number;
  fwmask?: number;
  uid?: [number, number];
  ipproto?: string;
  sport?: [number, number];
  dport?: [number, number];
  tos?: number;
  l3mdev: boolean;
  /** What a matching packet gets: a table lookup, a jump, nothing, or an error. */
  action: 'lookup' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit';
  /** The table of a lookup, named as ip names it ("main", "100"). */
  table?: string;
  /** The priority a goto jumps to. */
  goto?: number;
  /** Routes with a prefix this short or shorter are ignored in the lookup (wg-quick's `suppress_prefixlength 0`). */
  suppressPrefixlen?: number;
}

const prefixOf = (addr: unknown, len: unknown, family: 4 | 6): string | undefined => {
  if (typeof addr !== 'string' || addr === 'all') return undefined;
  const n = typeof len === 'number' ? len : family === 4 ? 32 : 128;
  return n === 0 ? undefined : `${canonicalIp(addr)}/${n}`;
};
const rangeOf = (r: Json, key: string): [number, number] | undefined =>
  typeof r[key] === 'number'
    ? [r[key] as number, r[key] as number]
    : typeof r[`${key}_start`] === 'number'
      ? [r[`${key}_start`] as number, Number(r[`${key}_end`])]
      : undefined;

/** `ip -j rule show` prints one family (IPv4 unless `ip -6`): say which. */
export function parseRules(json: string, family: 4 | 6): Rule[] {
  const arr = JSON.parse(json || '[]') as Json[];
  return arr.map((r) => {
    const src = prefixOf(r.src, r.srclen, family);
    const dst = prefixOf(r.dst, r.dstlen, family);
    const uid = typeof r.uid_start === 'number' ? ([r.uid_start, Number(r.uid_end)] as [number, number]) : undefined;
    const sport = rangeOf(r, 'sport');
    const dport = rangeOf(r, 'dport');
    const action: Rule['action'] =
      typeof r.goto === 'number'
        ? 'goto'
        : 'nop' in r
          ? 'nop'
          : r.action === 'blackhole' || r.action === 'unreachable' || r.action === 'prohibit'
            ? r.action
            : 'lookup';
    return {
      priority: Number(r.priority ?? 0),
      family,
      not: 'not' in r,
      ...(src ? { src } : {}),
      ...(dst ? { dst } : {}),
      ...(typeof r.iif === 'string' ? { iif: r.iif } : {}),
      ...(typeof r.oif === 'string' ? { oif: r.oif } : {}),
      ...(r.fwmark !== undefined
        ? { fwmark: Number(r.fwmark), fwmask: r.fwmask !== undefined ? Number(r.fwmask) : 0xffffffff }
        : {}),
      ...(uid ? { uid } : {}),
      ...(typeof r.ipproto === 'string' ? { ipproto: r.ipproto } : {}),
      ...(sport ? { sport } : {}),
      ...(dport ? { dport } : {}),
      ...(r.tos !== undefined && Number(r.tos) !== 0 ? { tos: Number(r.tos) } : {}),
      l3mdev: 'l3mdev' in r,
      action,
      ...(action === 'lookup' && r.table !== undefined ? { table: String(r.table) } : {}),
      ...(action === 'goto' ? { goto: Number(r.goto) } : {}),
      ...(typeof r.suppress_prefixlen === 'number' ? { suppressPrefixlen: r.suppress_prefixlen } : {}),
    };
  });
}

export interface Neighbour {
  dst: string;
  dev?: string;
  lladdr?: string;
  state: string;
}

export function parseNeigh(json: string): Neighbour[] {
  return (JSON.parse(json || '[]') as Array<Record<string, unknown>>).map((n) => ({
    dst: String(n.dst),
    ...(n.dev ? { dev: String(n.dev) } : {}),
    ...(n.lladdr ? { lladdr: String(n.lladdr) } : {}),
    state: Array.isArray(n.state) ? String(n.state[0] ?? 'NONE') : 'NONE',
  }));
}

/** A namespace seen whole: links with their addresses, routes of every table, and neighbours. */
export interface NsFull {
  links: Link[];
  routes: Route[];
  neigh: Neighbour[];
}

/** `ip -j -batch` prints one JSON array per command, each on its own line. */
export function splitBatchJson(out: string): string[] {
  return out
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('['));
}

/** Routes worth restoring when a NIC comes back: not the kernel's own (they return with the addresses). */
export function restorableRoutes(routes: Route[], dev: string): Route[] {
  return routes.filter(
    (r) =>
      r.dev === dev &&
      r.type === 'unicast' &&
      r.protocol !== 'kernel' &&
      !(r.family === 6 && r.dst.startsWith('fe80:')) &&
      r.protocol !== 'ra',
  );
}
