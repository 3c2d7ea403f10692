// Raw observations -> the status report (the stable JSON of `oob status --json`), with a health per
// profile. Pure.
import { canonicalIp, cidrText, familyOf, overlaps, parseCidr, type Cidr } from '../net/addr.js';
import { findNicInHost, findNicInNamespace } from '../observe/nic.js';
import type { Raw, RawProfile } from './collect.js';
import type { ProbeResult } from './probe.js';
import { leaseValid } from '../state/lease.js';
import { linksStatus, type LinksStatus } from './links.js';
import { natProblems, natStatus, type NatStatus } from './nat.js';
import { dynamic6Status, type Dhcp6Status, type SlaacStatus } from './dhcp6.js';

export type Health = 'ok' | 'degraded' | 'down';

export interface ServiceStatus {
  name: string;
  phase: string;
  pid: number | null;
  uptimeSec: number | null;
  restarts: number;
  ready: boolean;
  listening: string[];
  crashLoop: boolean;
  lastExit: { code: number | null; signal: string | null; reason: string; at: string } | null;
}

export interface ProfileStatus extends NatStatus {
  name: string;
  health: Health;
  problems: string[];
  profile: { file: string; valid: boolean; error: string | null };
  unit: { systemd: boolean; enabled: boolean | null };
  supervisor: { running: boolean; pid: number | null; since: string | null };
  namespace: { exists: boolean };
  nic: {
    name: string | null;
    mac: string | null;
    inNamespace: boolean;
    leftInHost: boolean;
    up: boolean;
    carrier: boolean;
    mtu: number | null;
  };
  addresses: string[];
  missingAddresses: string[];
  /** probe: with --probe, whether the gateway answered ('static': a PERMANENT or NOARP entry, left alone); else null. */
  gateways: Array<{
    address: string;
    family: 4 | 6;
    route: boolean;
    neighbour: string | null;
    probe: ProbeResult | null;
  }>;
  dns: { expected: boolean; present: boolean };
  /** A change made with --confirm, reverted at `deadline` unless `oob confirm NAME` (null: none). */
  pending: {
    what: string;
    state: string;
    since: string;
    deadline: string | null;
    revert: string;
    workerAlive: boolean;
  } | null;
  /** address = dhcp: the lease (valid: not expired and its address on the NIC); null without dhcp. */
  dhcp: {
    address: string | null;
    server: string | null;
    obtained: string | null;
    expires: string | null;
    valid: boolean;
  } | null;
  /** address = dhcp6: the DHCPv6 lease, as dhcp; null without dhcp6. */
  dhcp6: Dhcp6Status | null;
  /** address = auto: the SLAAC addresses on the NIC; null without auto. */
  slaac: SlaacStatus | null;
  services: ServiceStatus[];
  /** Subnets of the namespace that the host has too (duplicate addressing: a note, not a fault). */
  overlapsWithHost: string[];
  /** [veth] and [routes]: the veth's two ends, its bridge, the extra routes, as found. */
  links: LinksStatus;
}

export interface StatusReport {
  version: 1;
  generatedAt: string;
  health: Health;
  profiles: ProfileStatus[];
}

const worse = (a: Health, b: Health): Health =>
  a === 'down' || b === 'down' ? 'down' : a === 'degraded' || b === 'degraded' ? 'degraded' : 'ok';

/** The profile's NIC in its namespace (by oob's mark, else by the profile's selector). */
export const nicInNs = (p: RawProfile) => findNicInNamespace(p.name, p.profile?.iface?.nic, p.ns?.links);
/** The profile's NIC still (or again) in the host. */
export const nicInHost = (raw: Raw, p: RawProfile) => findNicInHost(p.name, p.profile?.iface?.nic, raw.host.links);
/** A valid profile without a NIC: its namespace is reached through its veth only. */
export const withoutNic = (p: RawProfile) => !!p.profile && !p.profile.iface;

export function summarize(raw: Raw): StatusReport {
  const now = Date.parse(raw.at);
  const hostCidrs = raw.host.links.flatMap((l) =>
    l.addrs
      .filter((a) => a.scope === 'global')
      .map((a) => ({ dev: l.ifname, c: parseCidr(`${a.local}/${a.prefixlen}`) as Cidr })),
  );
  const profiles = raw.profiles.map((p): ProfileStatus => {
    const problems: string[] = [];
    let health: Health = 'ok';
    const bad = (h: Health, msg: string) => {
      health = worse(health, h);
      problems.push(msg);
    };
    const nic = nicInNs(p);
    const leftInHost = nicInHost(raw, p);
    const nsExists = !!p.ns;
    const noNic = withoutNic(p);
    const links = linksStatus(raw, p);
    if (p.profileError) bad('degraded', `profile: ${p.profileError}`);
    if (!nsExists) bad('down', `namespace ${p.name} does not exist`);
    // without a NIC the veth is the way in: its faults are the links' (below)
    else if (!nic && !noNic)
      bad('down', `the NIC is not in namespace ${p.name}${leftInHost ? ` (${leftInHost.ifname} is in the host)` : ''}`);
    else if (nic) {
      if (!nic.up) bad('down', `${nic.ifname} is down`);
      else if (!nic.carrier) bad('down', `${nic.ifname} has no carrier (cable, switch port, peer)`);
    }
    for (const x of links.problems) bad(x.down ? 'down' : 'degraded', x.message);
    // without a NIC, the namespace's addresses are those of its veth end
    const addresses = noNic
      ? (links.links.veth?.addresses ?? [])
      : (nic?.addrs ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`);
    const wanted = p.profile?.iface?.addresses.length
      ? p.profile.iface.addresses.map(cidrText)
      : (p.record?.adopted?.addresses ?? []);
    const missingAddresses = noNic
      ? (links.links.veth?.missingAddresses ?? [])
      : wanted.filter((w) => !addresses.includes(w));
    if (nic) {
      if (!addresses.length) bad('down', `${nic.ifname} has no address`);
      else if (missingAddresses.length)
        bad('degraded', `address${missingAddresses.length > 1 ? 'es' : ''} missing: ${missingAddresses.join(', ')}`);
    }
    const wantGws = p.profile?.iface?.gateways.length ? p.profile.iface.gateways : (p.record?.adopted?.gateways ?? []);
    const gateways = wantGws.map((g) => {
      const fam = familyOf(g) ?? 4;
      const route = !!p.ns?.routes.some(
        (r) =>
          r.table === 'main' && r.dst === 'default' && r.gateway === canonicalIp(g) && (!nic || r.dev === nic.ifname),
      );
      const n = p.ns?.neigh.find((x) => x.dst === canonicalIp(g));
      return {
        address: canonicalIp(g),
        family: fam,
        route,
        neighbour: n?.state ?? null,
        probe: p.probes?.[canonicalIp(g)] ?? null,
      };
    });
    if (nsExists && nic)
      for (const g of gateways) {
        if (!g.route) bad('degraded', `no default route via ${g.address}: reachable from the management LAN only`);
        else if (g.probe === 'unanswered')
          bad('degraded', `gateway ${g.address} did not answer the ARP/ND probe (${g.neighbour ?? 'no entry'})`);
        else if (g.neighbour === 'FAILED' || g.neighbour === 'INCOMPLETE')
          bad('degraded', `gateway ${g.address} does not answer ARP/ND (${g.neighbour})`);
      }
    const dhcp = dhcpStatus(p, addresses, now);
    if (dhcp && nic && addresses.length && !dhcp.valid)
      bad(
        'degraded',
        !p.lease
          ? 'no DHCP lease (address = dhcp): the client has none yet'
          : Date.parse(p.lease.expires) <= now
            ? `the DHCP lease of ${p.lease.address} expired at ${p.lease.expires}`
            : `the DHCP lease's ${p.lease.address} is not on ${nic.ifname}`,
      );
    const { dhcp6, slaac } = dynamic6Status(p, nic, addresses, now, bad);
    const dnsExpected = !!p.profile?.dns;
    const dnsPresent = p.dnsFile !== undefined;
    if (nsExists && dnsExpected && !dnsPresent) bad('degraded', `/etc/netns/${p.name}/resolv.conf is missing`);

    const nat = natStatus(p);
    for (const m of natProblems(p, nat)) bad('degraded', m);

    const sup = p.state && p.supervisorAlive ? p.state.supervisor : undefined;
    const defs = p.profile?.services ?? [];
    if (defs.length && !sup)
      bad(
        'degraded',
        `no supervisor runs: the services are not kept (${p.unit.systemd ? `systemctl start oob@${p.name}` : `oob start ${p.name}`})`,
      );
    const services: ServiceStatus[] = defs.map((d) => {
      const st = sup ? p.state!.services[d.name] : undefined;
      const gone = !!st?.pid && p.goneServices.includes(d.name);
      const s: ServiceStatus = {
        name: d.name,
        phase: gone ? 'not running' : (st?.phase ?? 'not running'),
        pid: st?.pid ?? null,
        uptimeSec: st?.pid && st.startedAt ? Math.max(0, Math.round((now - Date.parse(st.startedAt)) / 1000)) : null,
        restarts: st?.restarts ?? 0,
        ready: !gone && (st?.ready ?? false),
        listening: p.sockets[d.name] ?? [],
        crashLoop: !!st?.crashLoop,
        lastExit: st?.lastExit ?? null,
      };
      if (sup) {
        if (s.crashLoop)
          bad(
            'degraded',
            `${d.name}: crash loop (${st!.crashLoop!.exits} exits in ${st!.crashLoop!.windowSec} s; last: ${st!.lastExit?.reason ?? '?'})`,
          );
        else if (gone)
          bad(
            'degraded',
            `${d.name}: pid ${st!.pid} is gone and the supervisor has not recorded what followed (a full or read-only runtime directory keeps it from writing its state)`,
          );
        else if (!s.ready)
          bad('degraded', `${d.name}: ${s.phase}${st?.lastExit ? ` (last: ${st.lastExit.reason})` : ''}`);
      }
      return s;
    });
    if (p.unit.systemd && p.unit.enabled === false)
      bad(
        'degraded',
        `oob@${p.name}.service is not enabled: it will not come back after a reboot (oob enable ${p.name})`,
      );
    const nsCidrs = addresses.map((a) => parseCidr(a) as Cidr);
    // the veth's own other side (its host end, its bridge) shares its subnet by design: no overlap
    const v = p.profile?.links?.veth;
    const ownSide = new Set(noNic && v ? [v.hostName, ...(v.bridge ? [v.bridge] : [])] : []);
    const overlapsWithHost = [
      ...new Set(
        nsCidrs.flatMap((c) =>
          hostCidrs
            .filter((h) => !ownSide.has(h.dev) && overlaps(h.c, c))
            .map((h) => `${cidrText(c)} ~ ${h.dev} ${cidrText(h.c)}`),
        ),
      ),
    ];
    return {
      name: p.name,
      health,
      problems,
      profile: { file: p.file, valid: !p.profileError, error: p.profileError ?? null },
      unit: { systemd: p.unit.systemd, enabled: p.unit.enabled },
      supervisor: { running: !!sup, pid: sup?.pid ?? null, since: sup?.startedAt ?? null },
      namespace: { exists: nsExists },
      nic: {
        name: nic?.ifname ?? null,
        mac: nic?.mac ?? null,
        inNamespace: !!nic,
        leftInHost: !nic && !!leftInHost,
        up: nic?.up ?? false,
        carrier: nic?.carrier ?? false,
        mtu: nic?.mtu ?? null,
      },
      addresses,
      missingAddresses,
      gateways,
      dns: { expected: dnsExpected, present: dnsPresent },
      dhcp,
      dhcp6,
      slaac,
      services,
      overlapsWithHost,
      links: links.links,
      ...nat,
      pending: p.pending
        ? {
            what: p.pending.what,
            state: p.pending.state,
            since: p.pending.since,
            deadline: p.pending.deadline ?? null,
            revert: p.pending.revert,
            workerAlive: p.pending.alive,
          }
        : null,
    };
  });
  return {
    version: 1,
    generatedAt: raw.at,
    health: profiles.reduce<Health>((h, p) => worse(h, p.health), 'ok'),
    profiles,
  };
}

/** The lease as status shows it: valid while unexpired with its address on the NIC. */
function dhcpStatus(p: RawProfile, addresses: string[], now: number): ProfileStatus['dhcp'] {
  if (!p.profile?.iface?.dhcp4) return null;
  const l = p.lease;
  return {
    address: l?.address ?? null,
    server: l?.server || null,
    obtained: l?.obtained ?? null,
    expires: l?.expires ?? null,
    valid: leaseValid(l, now) && addresses.includes(l.address),
  };
}
