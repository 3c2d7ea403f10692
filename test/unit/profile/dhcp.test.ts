// address = dhcp: the profile keys and the implicit dhcp4 service they make.
import { expect } from 'chai';
import { parseProfile, ProfileProblems } from '../../../src/profile/parse.js';
import { DHCP_SERVICE } from '../../../src/state/layout.js';

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

describe('profile/dhcp: address = dhcp', () => {
  it('alone: no static address, nothing adopted, one implicit dhcp4 service with its files under the runtime dir', () => {
    const p = ok(iface('address = dhcp\n'));
    expect(p.iface!.dhcp4).to.equal(true);
    expect(p.iface!.addresses).to.deep.equal([]);
    expect(p.services.map((s) => s.name)).to.deep.equal([DHCP_SERVICE]);
    const env = p.services[0]!.env;
    expect(env.OOB_LEASE).to.equal('/run/x/mgmt/dhcp4.lease');
    expect(env.OOB_PIDFILE).to.equal('/run/x/mgmt/dhcp4.pid');
    expect(env.OOB_SCRIPT).to.equal('/run/x/mgmt/dhcp4.script');
    expect(env.OOB_DNSFILE).to.equal('/etc/netns/mgmt/resolv.conf');
    expect(env.OOB_DNS).to.equal('1');
    expect(env.OOB_GATEWAY).to.equal('');
    expect(env.OOB_MARK).to.equal('oob:mgmt:');
    expect(p.services[0]!.exec.join(' ')).to.match(/exec busybox udhcpc -f -R -i "\$IF"/);
    expect(p.services[0]!.restart).to.equal('always');
  });

  it('mixed with static addresses, in any case; the gateway and [dns] of the profile override the lease', () => {
    const p = ok(
      iface('address = 192.168.7.2/24, DHCP, 2001:db8::2/64\ngateway = 10.9.9.1\n[dns]\nnameserver = 1.1.1.1\n'),
    );
    expect(p.iface!.dhcp4).to.equal(true);
    expect(p.iface!.addresses.map((a) => a.address)).to.deep.equal(['192.168.7.2', '2001:db8::2']);
    // the lease's subnet is unknown: a gateway outside the static subnets is the lease's business
    expect(p.iface!.gateways).to.deep.equal(['10.9.9.1']);
    const env = p.services.find((s) => s.name === DHCP_SERVICE)!.env;
    expect(env.OOB_GATEWAY).to.equal('10.9.9.1');
    expect(env.OOB_DNS).to.equal('0');
  });

  it('without dhcp nothing changes: no implicit service, an outside gateway is still refused', () => {
    const p = ok(iface('address = 10.0.0.2/24\n'));
    expect(p.iface!.dhcp4).to.equal(undefined);
    expect(p.services).to.deep.equal([]);
    expect(problems(iface('address = 10.0.0.2/24\ngateway = 10.9.9.1\n'))).to.have.length(1);
  });

  it('bad values: one line each, naming file, line, section and key', () => {
    expect(problems(iface('address = dhcp, dhcp\n'))).to.deep.equal([
      '/p/mgmt.ini:3: [interface] address: dhcp is listed twice',
    ]);
    expect(problems(iface('address = dhcp6, auto, DHCP6\n'))).to.deep.equal([
      '/p/mgmt.ini:3: [interface] address: dhcp6 is listed twice',
    ]);
    expect(problems(iface('address = auto auto\n'))).to.deep.equal([
      '/p/mgmt.ini:3: [interface] address: auto is listed twice',
    ]);
    expect(problems(iface('address = dhpc\n'))[0]).to.match(/^\/p\/mgmt.ini:3: \[interface\] address: /);
    expect(problems(iface('address = dhcp\n[service.dhcp4]\nexec = /bin/true\n'))).to.deep.equal([
      "/p/mgmt.ini:4: [service.dhcp4]: the name dhcp4 is oob's own DHCP client's (address = dhcp): rename the section",
    ]);
    // the gateway is never the NIC's own static address, dhcp or not
    expect(problems(iface('address = dhcp, 10.0.0.2/24\ngateway = 10.0.0.2\n'))).to.have.length(1);
  });
});
