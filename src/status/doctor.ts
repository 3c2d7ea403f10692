// `oob doctor`: the troubleshooting checklist of the namespace seed, run for real. Pure: takes what
// collect() saw and the status computed from it.
import { cidrText, contains, parseCidr, type Cidr } from '../net/addr.js';
import type { Raw, RawProfile } from './collect.js';
import { linkChecks } from './links.js';
import { natChecks } from './nat.js';
import { nicInHost, nicInNs, withoutNic, type ProfileStatus } from './model.js';
import { DHCP6_SERVICE, DHCP_SERVICE } from '../state/layout.js';

export type Verdict = 'PASS' | 'WARN' | 'FAIL';

export interface Check {
  verdict: Verdict;
  check: string;
  detail: string;
  fix?: string;
}

export function doctor(raw: Raw, p: RawProfile, st: ProfileStatus): Check[] {
  const out: Check[] = [];
  const add = (verdict: Verdict, check: string, detail: string, fix?: string) =>
    out.push({ verdict, check, detail, ...(fix ? { fix } : {}) });
  const start = st.unit.systemd ? `systemctl start oob@${p.name}` : `oob up ${p.name}`;

  if (p.profileError) add('FAIL', 'profile', p.profileError, `fix ${p.file}, then: oob check ${p.name}`);
  else add('PASS', 'profile', `${p.file} is valid`);

  if (!p.ns) {
    add('FAIL', 'namespace exists', `no network namespace ${p.name}`, start);
    return finish(out, p, st);
  }
  add('PASS', 'namespace exists', `/run/netns/${p.name}`);
  const nic = nicInNs(p);
  const left = nicInHost(raw, p);
  // a profile without a NIC: no NIC checks; its veth's are the links' (linkChecks)
  const noNic = withoutNic(p) && !nic;
  if (!nic && !noNic)
    add(
      'FAIL',
      'NIC in the namespace',
      left
        ? `${left.ifname} is still (or again) in the host namespace`
        : 'the NIC is in neither the namespace nor the host',
      left ? `oob up ${p.name}` : 'check [interface] nic and the hardware',
    );
  else if (nic)
    add(
      'PASS',
      'NIC in the namespace',
      `${nic.ifname} (${nic.mac})${left ? `; but ${left.ifname} in the host also matches the profile` : ''}`,
    );

  const lo = p.ns.links.find((l) => l.ifname === 'lo');
  if (!lo?.up)
    add(
      'FAIL',
      'links up',
      'lo is down inside the namespace: local services cannot talk to themselves',
      `ip -n ${p.name} link set lo up   (or: oob up ${p.name})`,
    );
  if (nic) {
    if (!nic.up) add('FAIL', 'links up', `${nic.ifname} is administratively down`, `oob up ${p.name}`);
    else if (!nic.carrier)
      add('FAIL', 'links up', `${nic.ifname} is up but has no carrier`, 'check the cable, the switch port, the peer');
    else if (lo?.up) add('PASS', 'links up', `lo and ${nic.ifname} up, carrier`);
  } else if (noNic && lo?.up) add('PASS', 'links up', 'lo up (no NIC: the veth below is the way in)');

  if (nic) {
    if (!st.addresses.length) add('FAIL', 'addresses present', `${nic.ifname} has no address`, `oob up ${p.name}`);
    else if (st.missingAddresses.length)
      add(
        'FAIL',
        'addresses present',
        `missing: ${st.missingAddresses.join(', ')} (present: ${st.addresses.join(', ')})`,
        `oob up ${p.name}`,
      );
    else add('PASS', 'addresses present', st.addresses.join(', '));
  }

  const cidrs = st.addresses.map((a) => parseCidr(a) as Cidr);
  if (!st.gateways.length && !noNic)
    add(
      'WARN',
      'default route',
      'the profile names no gateway: the namespace reaches its own subnet only',
      'add gateway = to [interface] if the management network is routed',
    );
  for (const g of st.gateways) {
    const inside = /^fe[89ab]/i.test(g.address) || cidrs.some((c) => contains(c, g.address));
    if (!g.route) add('FAIL', 'default route', `no default route via ${g.address} in ${p.name}`, `oob up ${p.name}`);
    else if (!inside)
      add(
        'FAIL',
        'default route',
        `gateway ${g.address} is outside every subnet of the NIC (${cidrs.map(cidrText).join(', ')}): it cannot be reached`,
        'fix gateway = or the address prefix in the profile',
      );
    else
      add(
        'PASS',
        'default route',
        `default via ${g.address}, inside ${
          cidrs
            .filter((c) => contains(c, g.address))
            .map(cidrText)
            .join(', ') || 'link-local'
        }`,
      );
    if (g.probe === 'unanswered')
      add(
        'FAIL',
        'gateway neighbour',
        `${g.address} did not answer the ARP/ND probe (${g.neighbour ?? 'no entry'}); the neighbour entry was left as it was`,
        'check the gateway is up on that LAN, the VLAN, the cable',
      );
    else if (g.probe === 'static')
      add('PASS', 'gateway neighbour', `${g.address} ${g.neighbour} (a static entry: left alone, not probed)`);
    else if (g.neighbour === null)
      add(
        'WARN',
        'gateway neighbour',
        `no ARP/ND entry for ${g.address} yet (nothing has talked to it)`,
        `oob doctor ${p.name} --probe`,
      );
    else if (['FAILED', 'INCOMPLETE'].includes(g.neighbour))
      add(
        'FAIL',
        'gateway neighbour',
        `${g.address} does not answer ARP/ND (${g.neighbour})`,
        'check the gateway is up on that LAN, the VLAN, the cable',
      );
    else add('PASS', 'gateway neighbour', `${g.address} ${g.neighbour}`);
  }

  out.push(...linkChecks(raw, p));
  const nat = natChecks(p);
  out.push(...nat);
  const others = p.ns.links.filter((l) => l.ifname !== 'lo');
  if (!nat.some((c) => c.check === 'IP forwarding'))
    add(
      'PASS',
      'IP forwarding',
      others.length <= 1
        ? 'not needed: the namespace has one link and routes nothing between links'
        : `${others.length} links in the namespace: enable forwarding inside it only if it must route between them`,
    );

  if (st.overlapsWithHost.length)
    add(
      'PASS',
      'overlapping subnets',
      `note: ${st.overlapsWithHost.join('; ')} — duplicate addressing, the point of a management namespace`,
    );
  else add('PASS', 'overlapping subnets', 'none with the host');

  if (st.dns.expected) {
    if (st.dns.present) add('PASS', 'DNS file', `/etc/netns/${p.name}/resolv.conf`);
    else
      add(
        'FAIL',
        'DNS file',
        `/etc/netns/${p.name}/resolv.conf is missing: "ip netns exec ${p.name}" programs see the host's resolver`,
        `oob up ${p.name}`,
      );
  }
  // a DHCP lease (v4: udhcpc, v6: dhcpcd): in place, or why not and what to do
  const leaseCheck = (
    label: string,
    lease: NonNullable<typeof st.dhcp>,
    service: string,
    protocol: string,
    install: string,
  ) => {
    const client = st.services.find((s) => s.name === service);
    if (lease.valid) add('PASS', label, `${lease.address} from ${lease.server}, expires ${lease.expires}`);
    else
      add(
        'FAIL',
        label,
        `${lease.address ? `the lease of ${lease.address} (expiry ${lease.expires}) is not in place` : 'no lease'}; the client ${client?.phase ?? 'does not run'}${client?.lastExit ? ` (last: ${client.lastExit.reason})` : ''}`,
        !st.supervisor.running
          ? `oob start ${p.name} (the ${protocol} client runs under the supervisor)`
          : client?.lastExit?.code === 127
            ? install
            : `check the ${protocol} server on the management LAN (the client keeps asking; its log: journalctl -u oob@${p.name} or ${p.logFile})`,
      );
  };
  if (st.dhcp) leaseCheck('DHCP lease', st.dhcp, DHCP_SERVICE, 'DHCP', 'apt install busybox (oob runs its udhcpc)');
  if (st.dhcp6)
    leaseCheck(
      'DHCPv6 lease',
      st.dhcp6,
      DHCP6_SERVICE,
      'DHCPv6',
      'apt install dhcpcd-base (oob runs its dhcpcd for DHCPv6)',
    );
  if (st.slaac) {
    if (st.slaac.addresses.length) add('PASS', 'SLAAC address', st.slaac.addresses.join(', '));
    else
      add(
        'FAIL',
        'SLAAC address',
        'no address from router advertisements (address = auto)',
        `check that the management LAN's router sends RAs with an autonomous /64 prefix: ip netns exec ${p.name} tcpdump -ni NIC icmp6`,
      );
  }
  return finish(out, p, st);
}

function finish(out: Check[], p: RawProfile, st: ProfileStatus): Check[] {
  const add = (verdict: Verdict, check: string, detail: string, fix?: string) =>
    out.push({ verdict, check, detail, ...(fix ? { fix } : {}) });
  const defs = p.profile?.services ?? [];
  if (defs.length && !st.supervisor.running)
    add(
      'FAIL',
      'services',
      `no supervisor runs for ${p.name}: ${defs.map((d) => d.name).join(', ')} are not kept running`,
      st.unit.systemd ? `systemctl restart oob@${p.name}` : `oob start ${p.name}`,
    );
  else
    for (const s of st.services) {
      const def = defs.find((d) => d.name === s.name)!;
      const port = def.ready.kind === 'tcp' ? `tcp:${def.ready.port}` : undefined;
      if (!s.ready || !s.pid)
        add(
          'FAIL',
          `service ${s.name}`,
          `${s.phase}${s.lastExit ? `; last exit: ${s.lastExit.reason}` : ''}${s.crashLoop ? '; crash loop' : ''}`,
          `look at its output: journalctl -u oob@${p.name}, or ${p.logFile}`,
        );
      else if (port && !s.listening.includes(port))
        add(
          'FAIL',
          `service ${s.name}`,
          `running (pid ${s.pid}) but not listening on ${port} (listening: ${s.listening.join(' ') || 'nothing'})`,
          'check its configuration (ListenAddress, Port)',
        );
      else
        add(
          'PASS',
          `service ${s.name}`,
          `running, pid ${s.pid}${s.listening.length ? `, listening ${s.listening.join(' ')}` : ''}`,
        );
    }
  if (!st.unit.systemd)
    add(
      'WARN',
      'unit enabled',
      'systemd is not PID 1 here: nothing brings the profile back after a reboot',
      'run it under systemd: oob enable',
    );
  else if (!st.unit.enabled)
    add(
      'FAIL',
      'unit enabled',
      `oob@${p.name}.service is not enabled: the management plane will not come back after a reboot`,
      `oob enable ${p.name}`,
    );
  else add('PASS', 'unit enabled', `oob@${p.name}.service`);
  const m = p.managers;
  // without a NIC there is nothing for the network managers to take
  if (withoutNic(p)) return out;
  if (m.networkManager)
    m.nmRule
      ? add('PASS', 'NetworkManager', 'leaves the NIC alone (unmanaged rule)')
      : add(
          'FAIL',
          'NetworkManager',
          'is installed and has no unmanaged rule for the NIC: it may take it back',
          `oob enable ${p.name}`,
        );
  if (m.networkd)
    m.networkdRule
      ? add('PASS', 'systemd-networkd', 'leaves the NIC alone (Unmanaged=yes)')
      : add(
          st.unit.enabled ? 'FAIL' : 'WARN',
          'systemd-networkd',
          'is installed and has no Unmanaged= rule for the NIC',
          `oob enable ${p.name}`,
        );
  if (!m.networkManager && !m.networkd)
    add('PASS', 'network managers', 'neither NetworkManager nor systemd-networkd is installed');
  return out;
}

export function formatChecks(name: string, checks: Check[], color: boolean): string {
  const col: Record<Verdict, string> = { PASS: '32', WARN: '33', FAIL: '31' };
  const c = (v: Verdict) => (color ? `\x1b[${col[v]}m${v}\x1b[0m` : v);
  const w = Math.max(...checks.map((x) => x.check.length));
  const lines = [`oob doctor ${name}`];
  for (const x of checks) {
    lines.push(`${c(x.verdict)}  ${x.check.padEnd(w)}  ${x.detail}`);
    if (x.verdict !== 'PASS' && x.fix) lines.push(`${' '.repeat(6 + w)}fix: ${x.fix}`);
  }
  return lines.join('\n') + '\n';
}
