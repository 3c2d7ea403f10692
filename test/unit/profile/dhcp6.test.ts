// address = dhcp6 / auto: the profile keys, the implicit dhcp6 service and its private paths.
import { expect } from 'chai';
import { parseProfile, ProfileProblems } from '../../../src/profile/parse.js';
import { DHCP6_SERVICE, DHCP_SERVICE } from '../../../src/state/layout.js';

const problems = (text: string): string[] => {
  const p = parseProfile('mgmt', '/p/mgmt.ini', text);
  return p instanceof ProfileProblems ? p.lines() : [];
};
const ok = (text: string) => {
  const p = parseProfile('mgmt', '/p/mgmt.ini', text, { runtimeDir: '/run/x' });
  if (p instanceof ProfileProblems) throw new Error(p.lines().join('\n'));
  return p;
};
const iface = (extra: string) => `[interface]\nnic = ens19\n${extra}`;

describe('profile/dhcp6: address = dhcp6 and auto', () => {
  it('dhcp6 alone: one implicit dhcp6 service running dhcpcd with every path of its own under the runtime dir', () => {
    const p = ok(iface('address = dhcp6\n'));
    expect(p.iface).to.include({ dhcp6: true });
    expect(p.iface!.dhcp4).to.equal(undefined);
    expect(p.iface!.slaac).to.equal(undefined);
    expect(p.iface!.addresses).to.deep.equal([]);
    expect(p.services.map((s) => s.name)).to.deep.equal([DHCP6_SERVICE]);
    const s = p.services[0]!;
    expect(s.env).to.include({
      OOB_LEASE: '/run/x/mgmt/dhcp6.lease',
      OOB_SCRIPT: '/run/x/mgmt/dhcp6.script',
      OOB_CONF: '/run/x/mgmt/dhcp6.conf',
      OOB_RUNDIR: '/run/x/mgmt/dhcp6.run',
      OOB_DBDIR: '/run/x/mgmt/dhcp6.db',
      OOB_DHCPCD_RUN: '/run/dhcpcd',
      OOB_DHCPCD_DB: '/var/lib/dhcpcd',
      OOB_DNSFILE: '/etc/netns/mgmt/resolv.conf',
      OOB_DNSPART: '/run/x/mgmt/dhcp6.dns',
      OOB_DNSPARTS: '/run/x/mgmt/dhcp4.dns /run/x/mgmt/dhcp6.dns',
      OOB_DNS: '1',
      OOB_MARK: 'oob:mgmt:',
    });
    const sh = s.exec.join(' ');
    // dhcpcd's built-in directories are hidden behind oob's before it starts, its config and hook are oob's
    expect(sh).to.match(
      /mount --bind "\$OOB_RUNDIR" "\$OOB_DHCPCD_RUN" && mount --bind "\$OOB_DBDIR" "\$OOB_DHCPCD_DB"/,
    );
    expect(sh).to.match(/exec dhcpcd -B -f "\$OOB_CONF" -c "\$OOB_SCRIPT" "\$IF" oob-dhcp6$/);
    expect(s.env.OOB_DHCPCD_CONF)
      .to.match(/^ipv6only$/m)
      .and.match(/^noipv6rs$/m)
      .and.match(/^release$/m);
    expect(s.restart).to.equal('always');
  });

  it('auto alone: no client at all (the kernel does SLAAC), nothing adopted', () => {
    const p = ok(iface('address = AUTO\n'));
    expect(p.iface).to.include({ slaac: true });
    expect(p.iface!.dhcp6).to.equal(undefined);
    expect(p.services).to.deep.equal([]);
  });

  it("mixed with static and dhcp: both clients; [dns] set turns off both clients' name servers", () => {
    const p = ok(iface('address = 10.0.0.2/24, dhcp, dhcp6, auto, 2001:db8::2/64\n[dns]\nnameserver = 10.0.0.53\n'));
    expect(p.iface).to.include({ dhcp4: true, dhcp6: true, slaac: true });
    expect(p.iface!.addresses.map((a) => a.address)).to.deep.equal(['10.0.0.2', '2001:db8::2']);
    expect(p.services.map((s) => s.name)).to.deep.equal([DHCP_SERVICE, DHCP6_SERVICE]);
    expect(p.services.map((s) => s.env.OOB_DNS)).to.deep.equal(['0', '0']);
    // both clients merge into the one resolv.conf from the same two shares
    expect(p.services[0]!.env.OOB_DNSPARTS).to.equal(p.services[1]!.env.OOB_DNSPARTS);
  });

  it("bad values: one line each (twice, a clash with [service.dhcp6], an MTU below IPv6's minimum)", () => {
    expect(problems(iface('address = dhcp6, dhcp6\n'))).to.deep.equal([
      '/p/mgmt.ini:3: [interface] address: dhcp6 is listed twice',
    ]);
    expect(problems(iface('address = dhcp6\n[service.dhcp6]\nexec = /bin/true\n'))).to.deep.equal([
      "/p/mgmt.ini:4: [service.dhcp6]: the name dhcp6 is oob's own DHCP client's (address = dhcp6): rename the section",
    ]);
    expect(problems(iface('address = auto\nmtu = 1200\n'))).to.deep.equal([
      '/p/mgmt.ini:4: [interface] mtu: 1200 is below 1280, the minimum for IPv6: raise it or drop the IPv6 address',
    ]);
    expect(problems(iface('address = dhcpv6\n'))[0]).to.match(/^\/p\/mgmt.ini:3: \[interface\] address: /);
    // no static IPv6 subnet: a global IPv6 gateway cannot be checked for reachability, and is refused
    expect(problems(iface('address = dhcp6\ngateway = 2001:db8::1\n'))).to.have.length(1);
    expect(problems(iface('address = dhcp6\ngateway = fe80::1\n'))).to.deep.equal([]);
  });
});

describe('profile/dhcp: the name servers of both leases, merged into resolv.conf', () => {
  const merge = async (parts: Record<string, string>) => {
    const { HOOK_FUNCTIONS } = await import('../../../src/profile/dhcp.js');
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const { execFileSync } = await import('node:child_process');
    const d = mkdtempSync('/tmp/oob-dns-');
    const files = Object.entries(parts).map(([n, t]) => {
      writeFileSync(`${d}/${n}`, t);
      return `${d}/${n}`;
    });
    execFileSync('/bin/sh', ['-c', `${HOOK_FUNCTIONS}merge_dns`], {
      env: {
        PATH: process.env.PATH,
        OOB_DNSFILE: `${d}/etc/resolv.conf`,
        OOB_DNSPARTS: [...files, `${d}/none`].join(' '),
      },
    });
    const out = readFileSync(`${d}/etc/resolv.conf`, 'utf8');
    execFileSync('rm', ['-rf', d]);
    return out;
  };
  it('both shares in one file: one search line, every server, a missing share skipped', async () => {
    expect(
      await merge({
        'dhcp4.dns': 'search lan.example\nnameserver 10.20.30.53\n',
        'dhcp6.dns': 'search v6.example\nnameserver 2001:db8:30::53\n',
      }),
    ).to.equal(
      '# generated by oob from the DHCP leases\nsearch lan.example v6.example\nnameserver 10.20.30.53\nnameserver 2001:db8:30::53\n',
    );
  });
  it('what a server sent is data: odd search words and anything but an address after nameserver are dropped', async () => {
    expect(
      await merge({
        'dhcp4.dns':
          'search ok.example $(reboot) a;b\nnameserver 10.0.0.1; rm -rf /\nnameserver 10.0.0.2\noptions rotate\n',
      }),
    ).to.equal('# generated by oob from the DHCP leases\nsearch ok.example\nnameserver 10.0.0.2\n');
  });
});
