// address = auto: the addresses the kernel made from router advertisements (SLAAC).
import type { AddrInfo } from '../net/ipjson.js';

/**
 * SLAAC addresses: global IPv6 ones the kernel made from an RA's prefix (dynamic: the RA's
 * lifetime), not its temporary (privacy) ones, and not a DHCPv6 lease (dhcpcd adds those as /128:
 * a SLAAC address always has the prefix's length, /64 on Ethernet).
 */
export const slaacAddresses = (addrs: readonly AddrInfo[]): string[] =>
  addrs
    .filter((a) => a.family === 'inet6' && a.scope === 'global' && a.dynamic && !a.temporary && a.prefixlen < 128)
    .map((a) => `${a.local}/${a.prefixlen}`);
