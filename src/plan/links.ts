// A profile's links besides the NIC -> steps, each with its undo. Pure.
// The veth's host end carries the alias "oob-veth:PROFILE", a bridge oob created "oob-bridge:NAME",
// and oob's extra routes the protocol number ROUTE_PROTO: that is how `down` (which works without
// the profile) and the next `up` know what is oob's. A bridge is shared by the profiles whose veth
// names it: created by the first that comes up, deleted with its last port.
import { OobError } from '../errors.js';
import { cidrText, type Cidr } from '../net/addr.js';
import type { AddrInfo, Link, Route } from '../net/ipjson.js';
import type { Observation } from '../observe/types.js';
import type { ExtraRoute } from '../profile/links.js';
import type { Profile } from '../profile/types.js';
import type { Step } from './types.js';
import { addrAddArgs, dstArg } from './up.js';
import { bridgeMark, ROUTE_PROTO, vethMark } from '../observe/nic.js';

const ip = (ns: string | null, args: string[], title: string, undo: Step[] = [], id?: string): Step => ({
  kind: 'ip',
  ns,
  args,
  title,
  undo,
  ...(id ? { id } : {}),
});

/** A locally administered unicast MAC derived from the bridge's name: the same every time it is made. */
export function bridgeMac(name: string): string {
  let h = 0x811c9dc5; // FNV-1a, 32 bits: enough to tell the host's few bridges apart
  for (const b of Buffer.from(name)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  const bytes = [0x02, 0x0b, (h >>> 24) & 0xff, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const globalAddrs = (l: Link | undefined) => (l?.addrs ?? []).filter((a) => a.scope === 'global');
const addrText = (a: AddrInfo) => `${a.local}/${a.prefixlen}`;
const fam = (c: Cidr) => (c.family === 4 ? ('inet' as const) : ('inet6' as const));

/** Addresses of a link to the profile's: add the missing ones, remove the others (each with its undo). */
function addrSteps(ns: string | null, dev: string, have: AddrInfo[], want: Cidr[], what: string): Step[] {
  const steps: Step[] = [];
  for (const c of want)
    if (!have.some((a) => a.local === c.address && a.prefixlen === c.prefixlen))
      steps.push(
        ip(
          ns,
          addrAddArgs({ local: c.address, prefixlen: c.prefixlen, family: fam(c) }, dev),
          `add address ${cidrText(c)} to ${what}`,
          [ip(ns, ['addr', 'del', cidrText(c), 'dev', dev], `remove address ${cidrText(c)} from ${dev}`)],
        ),
      );
  for (const a of have)
    if (!want.some((c) => a.local === c.address && a.prefixlen === c.prefixlen))
      steps.push(
        ip(
          ns,
          ['addr', 'del', addrText(a), 'dev', dev],
          `remove address ${addrText(a)} from ${what} (not in the profile)`,
          [ip(ns, addrAddArgs(a, dev), `put back address ${addrText(a)} on ${dev}`)],
        ),
      );
  return steps;
}

const routeKey = (r: { dst: string; via?: string; gateway?: string }) => `${r.dst} via ${r.via ?? r.gateway}`;
const ourRoutes = (routes: Route[] | undefined) =>
  (routes ?? []).filter((r) => r.protocol === ROUTE_PROTO && r.table === 'main');

function routeSteps(ns: string | null, have: Route[], want: ExtraRoute[], where: string): Step[] {
  const steps: Step[] = [];
  const args = (verb: string, dst: string, family: 4 | 6, via: string | undefined) => [
    'route',
    verb,
    dstArg(dst, family),
    ...(via ? ['via', via] : []),
    'proto',
    ROUTE_PROTO,
  ];
  const same = (h: Route, r: ExtraRoute) => h.dst === r.dst && h.family === r.family;
  for (const r of want) {
    if (have.some((h) => same(h, r) && h.gateway === r.via)) continue;
    // "replace" takes the place of oob's route to the same destination: its undo puts that one back
    const prev = have.find((h) => same(h, r));
    steps.push(
      ip(
        ns,
        args('replace', r.dst, r.family, r.via),
        `route ${routeKey(r)} in ${where}`,
        prev
          ? [ip(ns, args('replace', prev.dst, prev.family, prev.gateway), `put back route ${routeKey(prev)}`)]
          : [ip(ns, args('del', r.dst, r.family, r.via), `remove route ${routeKey(r)}`)],
      ),
    );
  }
  for (const h of have)
    if (!want.some((r) => same(h, r)))
      steps.push(
        ip(
          ns,
          args('del', h.dst, h.family, h.gateway),
          `remove route ${routeKey(h)} from ${where} (not in the profile)`,
          [ip(ns, args('replace', h.dst, h.family, h.gateway), `put back route ${routeKey(h)}`)],
        ),
      );
  return steps;
}

/** The host routes that belong to profile `ns`: oob's, through an address of a link in its namespace. */
function hostRoutesOf(s: Observation): Route[] {
  const nsAddrs = new Set((s.ns?.links ?? []).flatMap((l) => l.addrs.map((a) => a.local)));
  return ourRoutes(s.host.routes).filter((r) => r.gateway !== undefined && nsAddrs.has(r.gateway));
}

/**
 * The links steps of every profile of one `up` call, one list per profile, to be appended to its
 * NIC steps (the namespace exists by then). A bridge two profiles share is created once.
 */
export function planLinksUp(profiles: Profile[], states: Observation[]): Step[][] {
  const bridgesMade = new Map<string, { addrs: Cidr[]; by: string }>(); // planned in this call
  return profiles.map((p, i) => {
    const s = states[i]!;
    const ns = p.name;
    const steps: Step[] = [];
    const v = p.links?.veth;
    const hostLink = (n: string) => s.host.links.find((l) => l.ifname === n);
    const marked = s.host.links.filter((l) => l.alias === vethMark(ns));
    for (const old of marked.filter((l) => l.ifname !== v?.hostName))
      throw new OobError(
        'precondition',
        `${old.ifname} is ${ns}'s veth from before, and ${p.file} no longer names it: run "oob down ${ns}" first, then "oob up ${ns}"`,
      );
    if (v) {
      const h = hostLink(v.hostName);
      if (h && h.alias !== vethMark(ns))
        throw new OobError(
          'precondition',
          `${p.file}: [veth] host-name: ${v.hostName} is a link in the host that oob did not create: choose another name`,
        );
      const n = s.ns?.links.find((l) => l.ifname === v.name);
      if (!h && n)
        throw new OobError(
          'precondition',
          `${p.file}: [veth] name: namespace ${ns} already has a link ${v.name} whose host end is not ${v.hostName}: run "oob down ${ns}" first`,
        );
      if (h && !n)
        throw new OobError(
          'precondition',
          `${v.hostName} is marked as ${ns}'s veth but its peer ${v.name} is not in namespace ${ns}: delete it (ip link del ${v.hostName}) and run "oob up ${ns}" again`,
        );
      if (v.bridge) {
        const b = hostLink(v.bridge);
        const made = bridgesMade.get(v.bridge);
        if (b && b.alias !== bridgeMark(v.bridge))
          throw new OobError(
            'precondition',
            `${p.file}: [veth] bridge: ${v.bridge} is a link in the host that oob did not create: oob shares only bridges it made; choose another name`,
          );
        if (!b && !made) {
          steps.push(
            ip(null, ['link', 'add', v.bridge, 'type', 'bridge'], `create bridge ${v.bridge} in the host`, [
              ip(null, ['link', 'del', v.bridge], `delete bridge ${v.bridge}`),
            ]),
            ip(null, ['link', 'set', 'dev', v.bridge, 'alias', bridgeMark(v.bridge)], `mark ${v.bridge} as oob's`),
            // a bridge's own MAC follows its lowest port's: when a profile's veth leaves, the others'
            // cached ARP entry for the host's address would be stale until it expires
            ip(
              null,
              ['link', 'set', 'dev', v.bridge, 'address', bridgeMac(v.bridge)],
              `give ${v.bridge} a MAC of its own, which its ports coming and going do not change`,
            ),
            ip(null, ['link', 'set', 'dev', v.bridge, 'up'], `bring ${v.bridge} up`),
          );
          bridgesMade.set(v.bridge, { addrs: [], by: ns });
        } else if (b && !b.up && !made) {
          steps.push(
            ip(null, ['link', 'set', 'dev', v.bridge, 'up'], `bring ${v.bridge} up`, [
              ip(null, ['link', 'set', 'dev', v.bridge, 'down'], `take ${v.bridge} down again`),
            ]),
          );
          bridgesMade.set(v.bridge, { addrs: [], by: ns });
        }
        // the host's addresses on a shared bridge: added, never removed by one profile (another may want them)
        const have = [
          ...globalAddrs(b),
          ...(made?.addrs ?? []).map((c) => ({ local: c.address, prefixlen: c.prefixlen })),
        ];
        for (const c of v.bridgeAddresses)
          if (!have.some((a) => a.local === c.address && a.prefixlen === c.prefixlen)) {
            steps.push(
              ip(
                null,
                addrAddArgs({ local: c.address, prefixlen: c.prefixlen, family: fam(c) }, v.bridge),
                `add the host's address ${cidrText(c)} on ${v.bridge}`,
                [
                  ip(
                    null,
                    ['addr', 'del', cidrText(c), 'dev', v.bridge],
                    `remove address ${cidrText(c)} from ${v.bridge}`,
                  ),
                ],
              ),
            );
            const m = bridgesMade.get(v.bridge) ?? { addrs: [], by: ns };
            m.addrs.push(c);
            bridgesMade.set(v.bridge, m);
          }
      }
      if (!h) {
        steps.push(
          ip(
            null,
            ['link', 'add', v.hostName, 'type', 'veth', 'peer', 'name', v.name, 'netns', ns],
            `create veth ${v.hostName} (host) - ${v.name} (${ns})`,
            [ip(null, ['link', 'del', v.hostName], `delete veth ${v.hostName}`)],
          ),
          ip(null, ['link', 'set', 'dev', v.hostName, 'alias', vethMark(ns)], `mark ${v.hostName} as ${ns}'s`),
        );
      }
      if (v.bridge && h?.master !== v.bridge)
        steps.push(
          ip(null, ['link', 'set', 'dev', v.hostName, 'master', v.bridge], `make ${v.hostName} a port of ${v.bridge}`, [
            ip(null, ['link', 'set', 'dev', v.hostName, 'nomaster'], `take ${v.hostName} off ${v.bridge}`),
          ]),
        );
      if (!v.bridge && h?.master !== undefined)
        steps.push(
          ip(null, ['link', 'set', 'dev', v.hostName, 'nomaster'], `take ${v.hostName} off ${h.master}`, [
            ip(
              null,
              ['link', 'set', 'dev', v.hostName, 'master', h.master],
              `make ${v.hostName} a port of ${h.master} again`,
            ),
          ]),
        );
      steps.push(...addrSteps(null, v.hostName, globalAddrs(h), v.hostAddresses, `${v.hostName} (host)`));
      if (!h?.up)
        steps.push(
          ip(null, ['link', 'set', 'dev', v.hostName, 'up'], `bring ${v.hostName} up`, [
            ip(null, ['link', 'set', 'dev', v.hostName, 'down'], `take ${v.hostName} down`),
          ]),
        );
      steps.push(...addrSteps(ns, v.name, globalAddrs(n), v.addresses, `${v.name} (${ns})`));
      if (!n?.up)
        steps.push(
          ip(ns, ['link', 'set', 'dev', v.name, 'up'], `bring ${v.name} up in ${ns}`, [
            ip(ns, ['link', 'set', 'dev', v.name, 'down'], `take ${v.name} down`),
          ]),
        );
    }
    steps.push(...routeSteps(ns, ourRoutes(s.ns?.routes), p.links?.nsRoutes ?? [], `namespace ${ns}`));
    steps.push(...routeSteps(null, hostRoutesOf(s), p.links?.hostRoutes ?? [], 'the host'));
    return steps;
  });
}

/**
 * The links steps of `down` for the profiles going down in one call (from the observation alone):
 * oob's host routes through the namespace, the veth (its peer goes with it), and every bridge oob
 * made whose ports all belong to profiles going down now.
 */
export function planLinksDown(names: string[], states: Observation[]): Step[][] {
  const going = new Set(names.map(vethMark));
  const bridgesDone = new Set<string>();
  return names.map((ns, i) => {
    const s = states[i]!;
    const steps: Step[] = [];
    for (const r of hostRoutesOf(s))
      steps.push(
        ip(
          null,
          ['route', 'del', dstArg(r.dst, r.family), ...(r.gateway ? ['via', r.gateway] : []), 'proto', ROUTE_PROTO],
          `remove host route ${routeKey(r)}`,
          [],
          `${ns}:route:${r.dst}`,
        ),
      );
    for (const v of s.host.links.filter((l) => l.alias === vethMark(ns))) {
      steps.push(ip(null, ['link', 'del', v.ifname], `delete veth ${v.ifname}`, [], `${ns}:veth:${v.ifname}`));
      const b = v.master ? s.host.links.find((l) => l.ifname === v.master) : undefined;
      if (!b || b.alias !== bridgeMark(b.ifname) || bridgesDone.has(b.ifname)) continue;
      const ports = s.host.links.filter((l) => l.master === b.ifname);
      let lastGoing = -1;
      names.forEach((n, j) => {
        if (ports.some((pt) => pt.alias === vethMark(n))) lastGoing = j;
      });
      if (ports.every((pt) => pt.alias !== undefined && going.has(pt.alias)) && lastGoing === i) {
        steps.push(
          ip(
            null,
            ['link', 'del', b.ifname],
            `delete bridge ${b.ifname} (its last port is gone)`,
            [],
            `bridge:${b.ifname}`,
          ),
        );
        bridgesDone.add(b.ifname);
      }
    }
    // a bridge of oob's with no port left at all (its namespaces were deleted by hand): it goes with the first profile down
    if (i === 0)
      for (const b of s.host.links.filter((l) => l.alias === bridgeMark(l.ifname) && !bridgesDone.has(l.ifname)))
        if (!s.host.links.some((l) => l.master === b.ifname)) {
          steps.push(
            ip(
              null,
              ['link', 'del', b.ifname],
              `delete bridge ${b.ifname} (oob's, with no port left)`,
              [],
              `bridge:${b.ifname}`,
            ),
          );
          bridgesDone.add(b.ifname);
        }
    return steps;
  });
}
