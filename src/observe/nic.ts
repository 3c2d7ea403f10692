// NIC identity, the one owner of it: which link a profile selects (by name or MAC), oob's mark on
// a link it moved (its alias "oob:PROFILE:ORIGINAL-NAME", which survives a move between
// namespaces), how to name the NIC to a person, and what it carries that can be adopted. Pure.
import type { Link, Route } from '../net/ipjson.js';
import type { NicSelector } from '../profile/types.js';
import { OobError } from '../errors.js';

export const MARK = 'oob:';
/** The alias oob gives a NIC it moves: the profile and the NIC's name in the host. */
export const markFor = (profile: string, origName: string) => `${MARK}${profile}:${origName}`;
/** Does this link carry oob's mark for this profile? */
export const isMarkedFor = (profile: string) => (l: Pick<Link, 'alias'>) =>
  l.alias?.startsWith(`${MARK}${profile}:`) ?? false;

/** Does this link match the profile's `nic =` (a name, or a MAC: the current or the permanent one)? */
export function nicMatches(sel: NicSelector, l: Pick<Link, 'ifname' | 'mac' | 'permaddr'>): boolean {
  return sel.kind === 'name' ? l.ifname === sel.name : l.mac === sel.mac || l.permaddr === sel.mac;
}

export const describeNic = (sel: NicSelector) => (sel.kind === 'name' ? sel.name : `the NIC with MAC ${sel.mac}`);

/** The profile's NIC inside its namespace: by oob's mark, else by the selector. */
export function findNicInNamespace(
  profile: string,
  sel: NicSelector | undefined,
  links: Link[] | undefined,
): Link | undefined {
  return (
    links?.find(isMarkedFor(profile)) ?? (sel ? links?.find((l) => l.ifname !== 'lo' && nicMatches(sel, l)) : undefined)
  );
}

/** The profile's NIC in the host: marked (it came back), or selected. */
export function findNicInHost(profile: string, sel: NicSelector | undefined, links: Link[]): Link | undefined {
  return links.find((l) => isMarkedFor(profile)(l) || (sel ? nicMatches(sel, l) : false));
}

/** The NIC's global addresses as CIDR text, which oob adopts when a profile gives none. */
export const adoptableAddresses = (l: Link) =>
  l.addrs.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`);

/** The gateways of the main table's default routes through the NIC, which oob adopts with its addresses. */
export const adoptableGateways = (routes: Route[], dev: string) => [
  ...new Set(
    routes
      .filter((r) => r.dev === dev && r.dst === 'default' && r.gateway && r.table === 'main')
      .map((r) => r.gateway!),
  ),
];

/**
 * Profiles that select the same NIC: the same name, the same MAC, or a name and a MAC that are one
 * link of `links` (a NIC can serve one profile). One line per pair; empty when all are apart. Pure.
 */
export function sharedNics(
  profiles: Array<{ name: string; file: string; iface: { nic: NicSelector } }>,
  links: Array<Pick<Link, 'ifname' | 'mac' | 'permaddr'>>,
): string[] {
  const out: string[] = [];
  const sel = (s: NicSelector) => (s.kind === 'name' ? `nic = ${s.name}` : `nic = mac:${s.mac}`);
  profiles.forEach((a, i) => {
    for (const b of profiles.slice(i + 1)) {
      const x = a.iface.nic,
        y = b.iface.nic;
      const same =
        x.kind === y.kind
          ? x.kind === 'name'
            ? x.name === (y as typeof x).name
            : x.mac === (y as typeof x).mac
          : false;
      const link = links.find((l) => nicMatches(x, l) && nicMatches(y, l));
      if (!same && !link) continue;
      const what = link ? `${link.ifname}, MAC ${link.permaddr ?? link.mac}` : describeNic(x);
      out.push(
        `${b.file}: [interface] nic: ${b.name} (${sel(y)}) and ${a.name} (${sel(x)}) select the same NIC (${what}): a NIC can serve one profile; change nic = in one of them`,
      );
    }
  });
  return out;
}

/** For `up`: profiles that share a NIC are a bad command line (exit 2), one line per pair. */
export function throwIfShared(lines: string[]): void {
  if (lines.length) throw new OobError('usage', lines[0]!, lines.slice(1));
}

// The marks of the other links oob creates (issue 12): a veth's host end and a bridge carry an
// alias of their own (not "oob:…", which a profile named "bridge" would match), and oob's extra
// routes carry routing protocol 79, so that down finds them without the profile.
export const VETH_MARK = 'oob-veth:';
export const BRIDGE_MARK = 'oob-bridge:';
/** The routing protocol number of oob's extra routes (not in iproute2's rt_protos). */
export const ROUTE_PROTO = '79';

export const vethMark = (profile: string) => `${VETH_MARK}${profile}`;
export const bridgeMark = (bridge: string) => `${BRIDGE_MARK}${bridge}`;
