// `oob doctor`'s checklist for a profile's [veth] and [routes] (the namespace seed's: veth created,
// the right end in the namespace, up, addresses, bridge up, routing). Pure: what collect() saw.
import { cidrText } from '../net/addr.js';
import type { Link, Route } from '../net/ipjson.js';
import { bridgeMark, ROUTE_PROTO, vethMark } from '../observe/nic.js';
import type { Raw, RawProfile } from './collect.js';
import type { Check, Verdict } from './doctor.js';

const hasAddr = (l: Link | undefined, c: { address: string; prefixlen: number }) =>
  (l?.addrs ?? []).some((a) => a.local === c.address && a.prefixlen === c.prefixlen);
const hasRoute = (routes: Route[], dst: string, via: string) =>
  routes.some((r) => r.dst === dst && r.gateway === via && r.protocol === ROUTE_PROTO);

export function linkChecks(raw: Raw, p: RawProfile): Check[] {
  const out: Check[] = [];
  const add = (verdict: Verdict, check: string, detail: string, fix?: string) =>
    out.push({ verdict, check, detail, ...(fix ? { fix } : {}) });
  const links = p.profile?.links;
  if (!links || !p.ns) return out;
  const up = `oob up ${p.name}`;
  const v = links.veth;
  if (v) {
    const h = raw.host.links.find((l) => l.ifname === v.hostName);
    const n = p.ns.links.find((l) => l.ifname === v.name);
    if (!h) add('FAIL', 'veth created', `no ${v.hostName} in the host`, up);
    else if (h.alias !== vethMark(p.name))
      add(
        'FAIL',
        'veth created',
        `${v.hostName} in the host is not oob's veth of ${p.name}`,
        `rename or remove it, then ${up}`,
      );
    else add('PASS', 'veth created', `${v.hostName} (host) - ${v.name} (${p.name})`);
    if (!n)
      add(
        'FAIL',
        'veth end in the namespace',
        `no ${v.name} in namespace ${p.name}`,
        h ? `ip link del ${v.hostName}; ${up}` : up,
      );
    else add('PASS', 'veth end in the namespace', `${v.name} is in ${p.name}`);
    const down = [h && !h.up ? `${v.hostName} (host)` : '', n && !n.up ? `${v.name} (${p.name})` : ''].filter(Boolean);
    if (h && n)
      if (down.length) add('FAIL', 'veth up', `${down.join(' and ')} administratively down`, up);
      else add('PASS', 'veth up', `${v.hostName} and ${v.name} up`);
    const missing = [
      ...v.addresses.filter((c) => !hasAddr(n, c)).map((c) => `${cidrText(c)} on ${v.name}`),
      ...v.hostAddresses.filter((c) => !hasAddr(h, c)).map((c) => `${cidrText(c)} on ${v.hostName}`),
    ];
    if (missing.length) add('FAIL', 'veth addresses', `missing: ${missing.join(', ')}`, up);
    else if (v.addresses.length || v.hostAddresses.length)
      add('PASS', 'veth addresses', [...v.addresses, ...v.hostAddresses].map(cidrText).join(', '));
    if (v.bridge) {
      const b = raw.host.links.find((l) => l.ifname === v.bridge);
      if (!b) add('FAIL', 'bridge up', `no bridge ${v.bridge} in the host`, up);
      else if (b.alias !== bridgeMark(v.bridge))
        add('FAIL', 'bridge up', `${v.bridge} is not a bridge oob created`, `rename it, then ${up}`);
      else if (!b.up) add('FAIL', 'bridge up', `${v.bridge} is administratively down`, `ip link set ${v.bridge} up`);
      else if (h && h.master !== v.bridge) add('FAIL', 'bridge up', `${v.hostName} is not a port of ${v.bridge}`, up);
      else {
        const noAddr = v.bridgeAddresses.filter((c) => !hasAddr(b, c));
        if (noAddr.length)
          add('FAIL', 'bridge up', `${v.bridge} lacks the host's address ${noAddr.map(cidrText).join(', ')}`, up);
        else add('PASS', 'bridge up', `${v.bridge} up, ${v.hostName} a port of it`);
      }
    }
  }
  const missing = [
    ...links.nsRoutes
      .filter((r) => !hasRoute(p.ns!.routes, r.dst, r.via))
      .map((r) => `${r.dst} via ${r.via} in ${p.name}`),
    ...links.hostRoutes
      .filter((r) => !hasRoute(raw.host.routes, r.dst, r.via))
      .map((r) => `${r.dst} via ${r.via} in the host`),
  ];
  if (missing.length) add('FAIL', 'routing configured', `missing: ${missing.join(', ')}`, up);
  else if (links.nsRoutes.length || links.hostRoutes.length)
    add('PASS', 'routing configured', `${links.nsRoutes.length + links.hostRoutes.length} extra route(s) in place`);
  return out;
}
