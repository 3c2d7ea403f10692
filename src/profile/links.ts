// The profile's links besides the NIC: a veth pair between the host and the namespace (its host
// end with an address, or a port of a bridge oob creates in the host), and extra routes in the
// namespace and in the host. Parsing and validation only. Pure.
import {
  canonicalIp,
  cidrText,
  contains,
  familyOf,
  isNetworkOrBroadcast,
  networkOf,
  overlaps,
  parseCidr,
  type Cidr,
} from '../net/addr.js';
import type { Section } from './lines.js';
import { splitList } from './lines.js';
import { checkIfName } from './names.js';

export interface VethConfig {
  /** The end inside the namespace. */
  name: string;
  /** The end in the host. */
  hostName: string;
  /** Addresses of the namespace end. */
  addresses: Cidr[];
  /** Addresses of the host end (none when it is a bridge port). */
  hostAddresses: Cidr[];
  /** The bridge in the host the host end is a port of: oob creates it, shared by every profile that names it. */
  bridge?: string;
  /** The host's addresses on that bridge. */
  bridgeAddresses: Cidr[];
}

export interface ExtraRoute {
  /** Canonical destination as `ip -j route` prints it: "default", "10.1.0.0/16", or a bare address for a host route. */
  dst: string;
  via: string;
  family: 4 | 6;
}

export interface LinksConfig {
  veth?: VethConfig;
  /** [routes] namespace =: routes inside the namespace. */
  nsRoutes: ExtraRoute[];
  /** [routes] host =: routes in the host, through the namespace's end of the veth. */
  hostRoutes: ExtraRoute[];
}

export const LINK_KEYS = {
  veth: ['name', 'host-name', 'address', 'host-address', 'bridge', 'bridge-address'],
  routes: ['namespace', 'host'],
} as const;

type Bad = (line: number, key: string | undefined, message: string) => void;

const get = (sec: Section, key: string) => sec.entries.find((e) => e.key === key && e.value !== '');

function addrList(sec: Section, key: string, bad: Bad): Cidr[] {
  const e = get(sec, key);
  const out: Cidr[] = [];
  if (!e) return out;
  for (const item of splitList(e.value)) {
    const c = parseCidr(item);
    if (typeof c === 'string') bad(e.line, key, `${c}; fix the address or its /prefix`);
    else if (c.prefixlen === 0) bad(e.line, key, `${item} has prefix length 0: give the subnet's, e.g. /24`);
    else if (isNetworkOrBroadcast(c))
      bad(e.line, key, `${item} is the network or broadcast address of its subnet, not a host address`);
    else if (out.some((a) => a.address === c.address)) bad(e.line, key, `${item} is listed twice`);
    else out.push(c);
  }
  return out;
}

function ifName(sec: Section, key: string, bad: Bad, required: string | undefined): string | undefined {
  const e = get(sec, key);
  if (!e) {
    if (required) bad(sec.line, key, required);
    return undefined;
  }
  const err = checkIfName(e.value);
  if (err) {
    bad(e.line, key, err);
    return undefined;
  }
  return e.value;
}

export function parseVeth(sec: Section, bad: Bad): VethConfig | undefined {
  const name = ifName(sec, 'name', bad, 'missing: name the end in the namespace, e.g. name = veth-red');
  const hostName = ifName(sec, 'host-name', bad, 'missing: name the end in the host, e.g. host-name = veth-red-br');
  const bridge = ifName(sec, 'bridge', bad, undefined);
  const addresses = addrList(sec, 'address', bad);
  const hostAddresses = addrList(sec, 'host-address', bad);
  const bridgeAddresses = addrList(sec, 'bridge-address', bad);
  const line = (k: string) => get(sec, k)?.line ?? sec.line;
  if (name && hostName && name === hostName)
    bad(
      line('host-name'),
      'host-name',
      `"${hostName}" is also the namespace end's name: give the two ends different names`,
    );
  if (bridge && (bridge === name || bridge === hostName))
    bad(line('bridge'), 'bridge', `"${bridge}" is also the name of a veth end: give the bridge its own name`);
  if (bridge && hostAddresses.length)
    bad(
      line('host-address'),
      'host-address',
      `the host end is a port of bridge ${bridge} and takes no address: put the host's address on the bridge (bridge-address =), or drop bridge =`,
    );
  if (!bridge && bridgeAddresses.length)
    bad(
      line('bridge-address'),
      'bridge-address',
      'no bridge = in this section: name the bridge, or use host-address =',
    );
  // the two sides of the cable are one subnet; two subnets that overlap on one side make routing ambiguous
  const hostSide = bridge ? bridgeAddresses : hostAddresses;
  for (const a of addresses)
    for (const h of hostSide) {
      if (a.address === h.address)
        bad(line('address'), 'address', `${a.address} is also the host's address on this link: give each end its own`);
      else if (overlaps(a, h) && a.prefixlen !== h.prefixlen)
        bad(
          line('address'),
          'address',
          `${cidrText(a)} and the host side's ${cidrText(h)} overlap with different prefix lengths: give both ends the same subnet`,
        );
    }
  if (!name || !hostName) return undefined;
  return { name, hostName, addresses, hostAddresses, bridgeAddresses, ...(bridge ? { bridge } : {}) };
}

/** "DST via GW" (DST a prefix or "default"), comma separated. */
function parseRoutes(sec: Section, key: 'namespace' | 'host', bad: Bad): ExtraRoute[] {
  const e = get(sec, key);
  const out: ExtraRoute[] = [];
  if (!e) return out;
  for (const item of e.value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(\S+)\s+via\s+(\S+)$/.exec(item);
    if (!m) {
      bad(e.line, key, `"${item}" is not a route like 192.168.1.0/24 via 192.168.15.5 (several: separate with commas)`);
      continue;
    }
    const via = m[2]!;
    const fam = familyOf(via);
    if (!fam) {
      bad(e.line, key, `"${via}" is not an IPv4 or IPv6 address`);
      continue;
    }
    let dst: string;
    if (m[1] === 'default') dst = 'default';
    else {
      const c = parseCidr(m[1]!.includes('/') ? m[1]! : `${m[1]}/${fam === 4 ? 32 : 128}`);
      if (typeof c === 'string') {
        bad(e.line, key, c);
        continue;
      }
      if (c.family !== fam) {
        bad(e.line, key, `${m[1]} and ${via} are not of the same IP family`);
        continue;
      }
      const net = networkOf(c);
      if (net !== cidrText(c)) {
        bad(e.line, key, `${m[1]} has host bits set: the destination is the subnet ${net}`);
        continue;
      }
      dst = c.prefixlen === (fam === 4 ? 32 : 128) ? c.address : net;
    }
    if (out.some((r) => r.dst === dst)) bad(e.line, key, `a route to ${dst} is listed twice`);
    else out.push({ dst, via: canonicalIp(via), family: fam });
  }
  return out;
}

/**
 * [routes]: each gateway must be reachable on the link that carries it: a namespace route through
 * an address on the host side of the veth (or the NIC's subnet), a host route through the
 * namespace's end of the veth. `nicAddresses`: the NIC's configured subnets (empty: adopted, not checked).
 * `withNic`: the profile has an [interface], whose gateway = is the namespace's default route; without
 * one, the namespace's default route is a [routes] namespace = default via ... through the veth.
 */
export function parseRoutesSection(
  sec: Section,
  veth: VethConfig | undefined,
  nicAddresses: Cidr[],
  vethSeen: boolean,
  bad: Bad,
  withNic = true,
): Pick<LinksConfig, 'nsRoutes' | 'hostRoutes'> {
  // a [veth] with problems of its own: those lines say it; the routes through it are not checked against it
  if (vethSeen && !veth)
    return { nsRoutes: parseRoutes(sec, 'namespace', bad), hostRoutes: parseRoutes(sec, 'host', bad) };
  const nsRoutes = parseRoutes(sec, 'namespace', bad);
  const hostRoutes = parseRoutes(sec, 'host', bad);
  const line = (k: string) => get(sec, k)?.line ?? sec.line;
  const nsSide = [...(veth?.addresses ?? []), ...nicAddresses];
  for (const r of nsRoutes)
    if (!(veth && !veth.addresses.length && !nicAddresses.length) && !nsSide.some((c) => contains(c, r.via)))
      bad(
        line('namespace'),
        'namespace',
        `${r.dst} via ${r.via}: ${r.via} is outside every subnet of the namespace (${nsSide.map(cidrText).join(', ') || 'none'}): the gateway must be reachable from inside the namespace`,
      );
  for (const r of nsRoutes)
    if (r.dst === 'default' && withNic)
      bad(
        line('namespace'),
        'namespace',
        `the namespace's default route is [interface] gateway =: give a subnet here (e.g. 192.168.1.0/24 via ${r.via})`,
      );
  for (const r of hostRoutes) {
    if (!veth) bad(line('host'), 'host', `${r.dst} via ${r.via}: a host route needs a [veth] section to go through`);
    else if (!veth.addresses.some((c) => c.address === r.via))
      bad(
        line('host'),
        'host',
        `${r.dst} via ${r.via}: a host route goes through the namespace's end of the veth: use one of its addresses (${veth.addresses.map((c) => c.address).join(', ') || 'none: give [veth] address ='})`,
      );
    if (r.dst === 'default') bad(line('host'), 'host', `oob does not change the host's default route: give a subnet`);
  }
  return { nsRoutes, hostRoutes };
}

/** The NIC's subnets against the veth's: overlapping subnets on two links of one namespace. */
export function checkOverlaps(veth: VethConfig, nicAddresses: Cidr[], vethLine: number, bad: Bad): void {
  for (const a of veth.addresses)
    for (const n of nicAddresses)
      if (overlaps(a, n))
        bad(
          vethLine,
          'address',
          `${cidrText(a)} overlaps the NIC's subnet ${networkOf(n)}: two links of one namespace need separate subnets`,
        );
}
