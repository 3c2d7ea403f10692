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

/** `status --json`'s links: the profile's [veth] (both ends), its bridge and its extra routes, as found. */
export interface LinksStatus {
  veth: {
    name: string;
    hostName: string;
    /** The host end exists and carries oob's mark for this profile. */
    inHost: boolean;
    inNamespace: boolean;
    /** Both ends administratively up. */
    up: boolean;
    addresses: string[];
    missingAddresses: string[];
    hostAddresses: string[];
  } | null;
  bridge: {
    name: string;
    exists: boolean;
    /** Created by oob (its mark), so shared and deleted with its last port. */
    ours: boolean;
    up: boolean;
    /** The veth's host end is a port of it. */
    port: boolean;
    addresses: string[];
    missingAddresses: string[];
  } | null;
  routes: Array<{ where: 'namespace' | 'host'; dst: string; via: string; present: boolean }>;
}

const globalOf = (l: Link | undefined) =>
  (l?.addrs ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`);

/**
 * The links as status reports them, and what is wrong with them: for a profile without a NIC the
 * veth is its only way in, so a missing or down end is "down"; otherwise a fault of the links is "degraded".
 */
export function linksStatus(
  raw: Raw,
  p: RawProfile,
): { links: LinksStatus; problems: Array<{ down: boolean; message: string }> } {
  const problems: Array<{ down: boolean; message: string }> = [];
  const cfg = p.profile?.links;
  const noNic = !!p.profile && !p.profile.iface;
  const links: LinksStatus = { veth: null, bridge: null, routes: [] };
  if (!cfg) return { links, problems };
  const v = cfg.veth;
  if (v) {
    const h = raw.host.links.find((l) => l.ifname === v.hostName);
    const n = p.ns?.links.find((l) => l.ifname === v.name);
    const inHost = !!h && h.alias === vethMark(p.name);
    const addresses = globalOf(n);
    const missingAddresses = v.addresses.map(cidrText).filter((a) => !addresses.includes(a));
    links.veth = {
      name: v.name,
      hostName: v.hostName,
      inHost,
      inNamespace: !!n,
      up: !!h?.up && !!n?.up,
      addresses,
      missingAddresses,
      hostAddresses: globalOf(h),
    };
    if (p.ns) {
      if (!inHost || !n)
        problems.push({ down: noNic, message: `the veth ${v.hostName} - ${v.name} is missing (oob up ${p.name})` });
      else if (!h.up || !n.up) problems.push({ down: noNic, message: `the veth ${v.hostName} - ${v.name} is down` });
      else if (missingAddresses.length)
        problems.push({
          down: noNic && !addresses.length,
          message: `${v.name}: address${missingAddresses.length > 1 ? 'es' : ''} missing: ${missingAddresses.join(', ')}`,
        });
    }
    if (v.bridge) {
      const b = raw.host.links.find((l) => l.ifname === v.bridge);
      const bAddrs = globalOf(b);
      const bMissing = v.bridgeAddresses.map(cidrText).filter((a) => !bAddrs.includes(a));
      links.bridge = {
        name: v.bridge,
        exists: !!b,
        ours: b?.alias === bridgeMark(v.bridge),
        up: !!b?.up,
        port: !!h && h.master === v.bridge,
        addresses: bAddrs,
        missingAddresses: bMissing,
      };
      const br = links.bridge;
      if (p.ns) {
        if (!br.exists || !br.ours || !br.port)
          problems.push({ down: noNic, message: `${v.hostName} is not a port of oob's bridge ${v.bridge}` });
        else if (!br.up) problems.push({ down: noNic, message: `bridge ${v.bridge} is down` });
        else if (bMissing.length)
          problems.push({ down: false, message: `bridge ${v.bridge} lacks the host's address ${bMissing.join(', ')}` });
      }
    }
  }
  links.routes = [
    ...cfg.nsRoutes.map((r) => ({
      where: 'namespace' as const,
      dst: r.dst,
      via: r.via,
      present: hasRoute(p.ns?.routes ?? [], r.dst, r.via),
    })),
    ...cfg.hostRoutes.map((r) => ({
      where: 'host' as const,
      dst: r.dst,
      via: r.via,
      present: hasRoute(raw.host.routes, r.dst, r.via),
    })),
  ];
  const missing = links.routes.filter((r) => !r.present);
  if (p.ns && missing.length)
    problems.push({
      down: false,
      message: `route${missing.length > 1 ? 's' : ''} missing: ${missing.map((r) => `${r.dst} via ${r.via} (${r.where})`).join(', ')}`,
    });
  return { links, problems };
}
