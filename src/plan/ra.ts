// Router advertisements inside the namespace: accepted only when the profile says `address = auto`.
//
// A NIC moved into a namespace gets that namespace's IPv6 defaults (accept_ra=1, autoconf=1 in a
// fresh one). For a profile with IPv6 autoconfiguration (dhcp6 or auto) the steps set the NIC's
// own sysctls, inside the namespace, right after the NIC arrives and before it comes up: with
// `auto` accept_ra=2 (accept them even if forwarding is turned on in the namespace: with forwarding
// off 2 acts as 1) and autoconf=1; with dhcp6 alone accept_ra=0 and autoconf=0. A profile with
// neither keeps the kernel's defaults, as before (turning RAs off for every profile would add two
// steps to every plan: left for a change of its own). A profile `gateway` for IPv6 wins over the
// RA's default router (accept_ra_defrtr=0). Nothing is undone or restored: the settings are the
// NIC's in oob's namespace, and a NIC that returns to the host gets the host's defaults again.
import { familyOf } from '../net/addr.js';
import type { NicProfile } from '../profile/types.js';
import type { Step } from './types.js';

export function raSteps(p: NicProfile, ns: string, nic: string): Step[] {
  const auto = !!p.iface.slaac;
  const set = (key: string, value: string, title: string): Step => ({
    kind: 'sysctl',
    ns,
    key: `net.ipv6.conf.${nic}.${key}`,
    value,
    title,
    undo: [],
  });
  // no IPv6 autoconfiguration at all: RAs ignored (a fresh namespace accepts them: an RA on the
  // management LAN would give the NIC addresses and a default route the profile never asked for)
  if (!p.iface.dhcp6 && !auto)
    return [set('accept_ra', '0', `${nic} ignores router advertisements (no address = auto)`)];
  if (!auto)
    return [
      set('accept_ra', '0', `${nic} ignores router advertisements (no address = auto)`),
      set('autoconf', '0', `${nic} takes no SLAAC address (no address = auto)`),
    ];
  const ownGw = p.iface.gateways.some((g) => familyOf(g) === 6);
  return [
    set('accept_ra', '2', `${nic} accepts router advertisements (address = auto)`),
    set('autoconf', '1', `${nic} takes SLAAC addresses (address = auto)`),
    set(
      'accept_ra_defrtr',
      ownGw ? '0' : '1',
      ownGw ? `the profile's IPv6 gateway, not the RA's router` : `${nic}'s default route from the RA`,
    ),
  ];
}
