// IPv4/IPv6 addresses and prefixes: parsing, canonical form, containment. Pure.
import { isIPv4 } from 'node:net';

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** The address as written, canonicalised (IPv6 compressed, lower case). */
  address: string;
  prefixlen: number;
}

const HEX16 = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[0-9a-zA-Z.:-]+$/;
const V4_TAIL = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/;

/** The same answer as node:net's isIPv6 (zone suffix included), without its regular expression, whose
 *  compilation at the first call cost 5-20 ms of every oob start (there is always an fe80:: to parse). */
export function isIPv6(ip: string): boolean {
  let s = ip;
  const pct = s.indexOf('%');
  if (pct >= 0) {
    if (!ZONE.test(s.slice(pct + 1))) return false;
    s = s.slice(0, pct);
  }
  let groups = 8;
  const v4 = V4_TAIL.exec(s);
  if (v4) {
    if (!isIPv4(v4[2]!)) return false;
    s = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1);
    groups = 6;
  }
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const parts = (h: string) => (h === '' ? [] : h.split(':'));
  if (halves.length === 1) {
    const p = parts(s);
    return p.length === groups && p.every((g) => HEX16.test(g));
  }
  const [a, b] = [parts(halves[0]!), parts(halves[1]!)];
  return a.length + b.length <= groups - 1 && a.every((g) => HEX16.test(g)) && b.every((g) => HEX16.test(g));
}

export function familyOf(ip: string): Family | null {
  if (isIPv4(ip)) return 4;
  if (isIPv6(ip)) return 6;
  return null;
}

/** Parse "10.20.30.1/24" or "2001:db8::1/64". Returns an error text instead of throwing. */
export function parseCidr(text: string): Cidr | string {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return `"${text}" is not an address with a prefix length (like 10.20.30.1/24 or 2001:db8::1/64)`;
  const ip = m[1]!;
  const len = Number(m[2]);
  const fam = familyOf(ip);
  if (!fam) return `"${ip}" is not an IPv4 or IPv6 address`;
  const max = fam === 4 ? 32 : 128;
  if (len > max) return `prefix length /${len} is larger than ${max} for an IPv${fam} address`;
  return { family: fam, address: canonicalIp(ip), prefixlen: len };
}

export function toBigInt(ip: string): bigint {
  if (isIPv4(ip)) return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  // expand IPv6, including an embedded IPv4 tail
  let s = ip.toLowerCase();
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4tail) {
    const n = toBigInt(v4tail[1]!);
    s = s.slice(0, -v4tail[1]!.length) + ((n >> 16n) & 0xffffn).toString(16) + ':' + (n & 0xffffn).toString(16);
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

export function fromBigInt(n: bigint, fam: Family): string {
  if (fam === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // RFC 5952: compress the longest run of two or more zero groups
  let best = -1,
    bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return groups.slice(0, best).join(':') + '::' + groups.slice(best + bestLen).join(':');
}

/** canonicalIp's answers so far: the same few addresses come back in every namespace (status
 *  parses each one's links and routes, ~20 addresses each, through BigInt). Bounded. */
const canonical = new Map<string, string>();

export function canonicalIp(ip: string): string {
  let c = canonical.get(ip);
  if (c === undefined) {
    const fam = familyOf(ip);
    c = fam ? fromBigInt(toBigInt(ip), fam) : ip;
    if (canonical.size >= 4096) canonical.clear();
    canonical.set(ip, c);
  }
  return c;
}

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1, as a dual-stack socket shows an IPv4 peer) as the
 *  IPv4 address it stands for; any other address canonicalised. Compare addresses of sockets with this. */
export function plainIp(ip: string): string {
  const c = canonicalIp(ip);
  if (familyOf(c) !== 6) return c;
  const n = toBigInt(c);
  return n >> 32n === 0xffffn ? fromBigInt(n & 0xffffffffn, 4) : c;
}

export function cidrText(c: Cidr): string {
  return `${c.address}/${c.prefixlen}`;
}

function maskOf(len: number, fam: Family): bigint {
  const bits = fam === 4 ? 32 : 128;
  return len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(bits - len);
}

/** The network address of a CIDR, e.g. 10.20.30.0/24. */
export function networkOf(c: Cidr): string {
  return `${fromBigInt(toBigInt(c.address) & maskOf(c.prefixlen, c.family), c.family)}/${c.prefixlen}`;
}

/** Whether `ip` lies inside the subnet of `c`. */
export function contains(c: Cidr, ip: string): boolean {
  const fam = familyOf(ip);
  if (fam !== c.family) return false;
  const m = maskOf(c.prefixlen, fam);
  return (toBigInt(ip) & m) === (toBigInt(c.address) & m);
}

/** Whether two prefixes overlap. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const len = Math.min(a.prefixlen, b.prefixlen);
  const m = maskOf(len, a.family);
  return (toBigInt(a.address) & m) === (toBigInt(b.address) & m);
}

/** True for the network or (IPv4) broadcast address of the subnet: not usable as a host address. */
export function isNetworkOrBroadcast(c: Cidr): boolean {
  if (c.family === 4 && c.prefixlen >= 31) return false;
  if (c.family === 6 && c.prefixlen >= 127) return false;
  const m = maskOf(c.prefixlen, c.family);
  const n = toBigInt(c.address);
  const bits = c.family === 4 ? 32 : 128;
  const all = (1n << BigInt(bits)) - 1n;
  if ((n & ~m & all) === 0n) return c.family === 4; // IPv6 subnet-router anycast is legal to assign
  return c.family === 4 && (n & ~m & all) === (~m & all);
}
