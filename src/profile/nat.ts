// [nat] and [forward]: masquerading a subnet out of a link, and port forwards, in the namespace or
// in the host (issue 12). Parsing and validation only. Pure.
//
//   [nat]
//   host = 192.168.15.0/24 out eth0          # the host masquerades the namespace's subnet out of eth0
//   namespace = 192.168.15.0/24 out ens19    # the namespace masquerades the host's traffic out of its NIC
//   [forward]
//   host = tcp 192.168.1.2:80 to 192.168.15.2:80   # connections to the host's 192.168.1.2:80 go to the namespace
//   namespace = tcp 9100 to 192.168.15.5:9100      # connections to the namespace's port 9100 go to the host
//
// Several entries: separated by commas. A forward with no address takes the port on every address
// of that side (the side's own addresses only: never traffic routed through it).
import { canonicalIp, cidrText, familyOf, networkOf, overlaps, parseCidr, type Cidr } from '../net/addr.js';
import type { Section } from './lines.js';
import type { VethConfig } from './links.js';
import { checkIfName } from './names.js';
import type { InterfaceConfig } from './types.js';

export type Side = 'host' | 'namespace';

export interface Masquerade {
  side: Side;
  /** The source subnet (its network address). */
  subnet: Cidr;
  /** The link it leaves through. */
  out: string;
}

export interface PortForward {
  side: Side;
  proto: 'tcp' | 'udp';
  /** The address connections arrive at (none: every address of that side). */
  listen?: string;
  port: number;
  /** Where they go, on the other side. */
  to: string;
  toPort: number;
  family: 4 | 6;
}

export interface NatConfig {
  masquerade: Masquerade[];
  forwards: PortForward[];
}

export const NAT_KEYS = {
  nat: ['host', 'namespace'],
  forward: ['host', 'namespace'],
} as const;

type Bad = (line: number, key: string | undefined, message: string) => void;

const SIDES: Side[] = ['host', 'namespace'];
const items = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** "tcp 192.168.1.2:80 to 192.168.15.2:80" as written back: the key of a forward (and its rule's comment). */
export const forwardText = (f: PortForward) =>
  `${f.proto} ${f.listen ? hostPort(f.listen, f.port) : String(f.port)} to ${hostPort(f.to, f.toPort)}`;
export const masqueradeText = (m: Masquerade) => `${cidrText(m.subnet)} out ${m.out}`;
export const hostPort = (addr: string, port: number) => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** "ADDR:PORT", "[V6]:PORT" or (allowBare) "PORT". */
function parseEndpoint(text: string, allowBare: boolean): { addr?: string; port: number } | string {
  let addr: string | undefined;
  let port: string;
  const v6 = /^\[([^\]]+)\]:(\S+)$/.exec(text);
  if (v6) [addr, port] = [v6[1]!, v6[2]!];
  else if (/^\d+$/.test(text)) {
    if (!allowBare) return `"${text}" has no address: write ADDRESS:PORT, e.g. 192.168.15.2:${text}`;
    port = text;
  } else {
    const i = text.lastIndexOf(':');
    if (i < 0 || text.indexOf(':') !== i)
      return `"${text}" is not ADDRESS:PORT (an IPv6 address in brackets: [2001:db8::2]:80)`;
    [addr, port] = [text.slice(0, i), text.slice(i + 1)];
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
    return `"${port}" in "${text}" is not a port between 1 and 65535`;
  if (addr !== undefined && !familyOf(addr)) return `"${addr}" in "${text}" is not an IPv4 or IPv6 address`;
  return { ...(addr !== undefined ? { addr: canonicalIp(addr) } : {}), port: Number(port) };
}

export function parseNatSection(sec: Section, bad: Bad): Masquerade[] {
  const out: Masquerade[] = [];
  for (const side of SIDES) {
    const e = sec.entries.find((x) => x.key === side && x.value !== '');
    if (!e) continue;
    for (const item of items(e.value)) {
      const m = /^(\S+)\s+out\s+(\S+)$/.exec(item);
      if (!m) {
        bad(
          e.line,
          side,
          `"${item}" is not SUBNET out LINK, like 192.168.15.0/24 out eth0 (several: separate with commas)`,
        );
        continue;
      }
      const c = parseCidr(m[1]!);
      if (typeof c === 'string') {
        bad(e.line, side, c);
        continue;
      }
      if (networkOf(c) !== cidrText(c)) {
        bad(e.line, side, `${m[1]} has host bits set: the subnet is ${networkOf(c)}`);
        continue;
      }
      const err =
        checkIfName(m[2]!) ??
        (/["\\]/.test(m[2]!) ? `"${m[2]}" is not a valid interface name (no quotes or backslashes)` : null);
      if (err) {
        bad(e.line, side, err);
        continue;
      }
      const clash = out.find((o) => o.side === side && overlaps(o.subnet, c));
      if (clash)
        bad(
          e.line,
          side,
          `${cidrText(c)} overlaps ${masqueradeText(clash)}: give each subnet once, with the link it leaves through`,
        );
      else out.push({ side, subnet: c, out: m[2]! });
    }
  }
  return out;
}

export function parseForwardSection(sec: Section, bad: Bad): PortForward[] {
  const out: PortForward[] = [];
  for (const side of SIDES) {
    const e = sec.entries.find((x) => x.key === side && x.value !== '');
    if (!e) continue;
    for (const item of items(e.value)) {
      const m = /^(\S+)\s+(\S+)\s+to\s+(\S+)$/.exec(item);
      if (!m) {
        bad(
          e.line,
          side,
          `"${item}" is not PROTO [ADDRESS:]PORT to ADDRESS:PORT, like tcp 192.168.1.2:80 to 192.168.15.2:80 (several: separate with commas)`,
        );
        continue;
      }
      const proto = m[1]!.toLowerCase();
      if (proto !== 'tcp' && proto !== 'udp') {
        bad(e.line, side, `"${m[1]}" in "${item}" is not tcp or udp`);
        continue;
      }
      const from = parseEndpoint(m[2]!, true);
      const to = parseEndpoint(m[3]!, false);
      if (typeof from === 'string' || typeof to === 'string') {
        bad(e.line, side, typeof from === 'string' ? from : (to as string));
        continue;
      }
      const family = familyOf(to.addr!)!;
      if (from.addr && familyOf(from.addr) !== family) {
        bad(e.line, side, `${from.addr} and ${to.addr} in "${item}" are not of the same IP family`);
        continue;
      }
      const f: PortForward = {
        side,
        proto,
        ...(from.addr ? { listen: from.addr } : {}),
        port: from.port,
        to: to.addr!,
        toPort: to.port,
        family,
      };
      // two forwards that take the same connections: the same port on a common address
      const clash = out.find(
        (o) =>
          o.side === side &&
          o.proto === f.proto &&
          o.port === f.port &&
          o.family === f.family &&
          (!o.listen || !f.listen || o.listen === f.listen),
      );
      if (clash) bad(e.line, side, `"${forwardText(f)}" takes the same connections as "${forwardText(clash)}"`);
      else out.push(f);
    }
  }
  return out;
}

/**
 * Against the profile's links: a forward goes to an address a link of the profile has on the other
 * side (the namespace's end of the veth or its NIC for a host forward; the host's end of the veth
 * or its bridge address for a namespace forward); the namespace masquerades out of its own links.
 * The host forwards and masquerades IPv4 only: IPv6 forwarding in the host would make it ignore
 * router advertisements, and with them maybe its own default route.
 */
export function checkNat(
  nat: NatConfig,
  veth: VethConfig | undefined,
  iface: InterfaceConfig | undefined,
  bad: (section: 'nat' | 'forward', key: Side, message: string) => void,
): void {
  const nsAddrs: Cidr[] = [...(veth?.addresses ?? []), ...(iface?.addresses ?? [])];
  const hostAddrs: Cidr[] = [...(veth?.hostAddresses ?? []), ...(veth?.bridgeAddresses ?? [])];
  const nsLinks = [...(veth ? [veth.name] : []), ...(iface?.nic.kind === 'name' ? [iface.nic.name] : [])];
  const v6host =
    'oob does not forward IPv6 in the host (the host would ignore router advertisements, and with them maybe its default route): use IPv4 here, or NAT inside the namespace';
  for (const m of nat.masquerade) {
    if (m.side === 'host' && m.subnet.family === 6) bad('nat', 'host', `${masqueradeText(m)}: ${v6host}`);
    if (m.side === 'namespace' && !nsLinks.includes(m.out))
      bad(
        'nat',
        'namespace',
        `${masqueradeText(m)}: ${m.out} is not a link of the namespace (${nsLinks.join(', ') || 'none named'}): name its NIC (nic = NAME) or its veth end`,
      );
  }
  for (const f of nat.forwards) {
    const text = `"${forwardText(f)}"`;
    if (!veth) {
      bad('forward', f.side, `${text}: a forward goes through the veth: add a [veth] section`);
      continue;
    }
    if (f.side === 'host' && f.family === 6) {
      bad('forward', 'host', `${text}: ${v6host}`);
      continue;
    }
    const other = f.side === 'host' ? nsAddrs : hostAddrs;
    if (!other.some((c) => c.address === f.to))
      bad(
        'forward',
        f.side,
        `${text}: ${f.to} is no address of ${f.side === 'host' ? "the namespace's links" : "the host's end of the veth"} (${other.map((c) => c.address).join(', ') || 'none'}): forward to one of them`,
      );
    if (f.side === 'namespace' && f.listen && !nsAddrs.some((c) => c.address === f.listen))
      bad(
        'forward',
        'namespace',
        `${text}: ${f.listen} is no address of the namespace (${nsAddrs.map((c) => c.address).join(', ') || 'none'})`,
      );
  }
}

/** The comment oob gives each rule of its tables: what it does, as the profile says it. */
export const forwardComment = (f: PortForward) => `oob: forward ${forwardText(f)}`;
export const masqueradeComment = (m: Masquerade) => `oob: masquerade ${masqueradeText(m)}`;

/** The IP families a side routes for (its forwarding must be on). */
export function routedFamilies(n: NatConfig | undefined, side: Side): (4 | 6)[] {
  const fams = new Set<4 | 6>();
  for (const m of n?.masquerade ?? []) if (m.side === side) fams.add(m.subnet.family);
  for (const f of n?.forwards ?? []) if (f.side === side) fams.add(f.family);
  return [...fams].sort();
}

export const hasNat = (n: NatConfig | undefined) => !!n && (n.masquerade.length > 0 || n.forwards.length > 0);
