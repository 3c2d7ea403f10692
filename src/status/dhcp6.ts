// address = dhcp6 / auto in the status report: the DHCPv6 lease (as the dhcp field shows the
// DHCPv4 one) and the SLAAC addresses, each with the problem that makes the profile degraded.
import type { Link } from '../net/ipjson.js';
import { slaacAddresses } from '../observe/slaac.js';
import { leaseValid } from '../state/lease.js';
import type { RawProfile } from './collect.js';

export interface Dhcp6Status {
  address: string | null;
  /** The server's DUID (hex), as the lease names it. */
  server: string | null;
  obtained: string | null;
  expires: string | null;
  /** Not expired, and its address on the NIC. */
  valid: boolean;
}

export interface SlaacStatus {
  /** The addresses the kernel made from router advertisements (none: degraded). */
  addresses: string[];
}

export function dynamic6Status(
  p: RawProfile,
  nic: Link | undefined,
  addresses: string[],
  now: number,
  bad: (h: 'degraded', msg: string) => void,
): { dhcp6: Dhcp6Status | null; slaac: SlaacStatus | null } {
  const iface = p.profile?.iface;
  let dhcp6: Dhcp6Status | null = null;
  if (iface?.dhcp6) {
    const l = p.lease6;
    dhcp6 = {
      address: l?.address ?? null,
      server: l?.server || null,
      obtained: l?.obtained ?? null,
      expires: l?.expires ?? null,
      valid: leaseValid(l, now) && addresses.includes(l.address),
    };
    if (nic && addresses.length && !dhcp6.valid)
      bad(
        'degraded',
        !l
          ? 'no DHCPv6 lease (address = dhcp6): the client has none yet'
          : Date.parse(l.expires) <= now
            ? `the DHCPv6 lease of ${l.address} expired at ${l.expires}`
            : `the DHCPv6 lease's ${l.address} is not on ${nic.ifname}`,
      );
  }
  let slaac: SlaacStatus | null = null;
  if (iface?.slaac) {
    slaac = { addresses: slaacAddresses(nic?.addrs ?? []) };
    if (nic && addresses.length && !slaac.addresses.length)
      bad(
        'degraded',
        `no SLAAC address (address = auto): no router advertisement with an autonomous prefix reached ${nic.ifname}`,
      );
  }
  return { dhcp6, slaac };
}
