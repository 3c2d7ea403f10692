// Router advertisements inside the namespace: accepted only with address = auto.
import { expect } from 'chai';
import { stepCommand } from '../../../src/engine/apply.js';
import { raSteps } from '../../../src/plan/ra.js';
import { profile } from '../helpers.js';
import type { NicProfile } from '../../../src/profile/types.js';

const cmds = (text: string) => raSteps(profile(text) as NicProfile, 'mgmt', 'ens19').map(stepCommand);

describe('plan/ra: accept_ra and autoconf of the NIC in the namespace', () => {
  it('no dhcp6 nor auto: router advertisements ignored (a fresh namespace accepts them)', () => {
    expect(cmds('[interface]\nnic = ens19\naddress = 10.0.0.2/24, dhcp\n')).to.deep.equal([
      'ip netns exec mgmt sysctl -q -w net.ipv6.conf.ens19.accept_ra=0',
    ]);
  });
  it('dhcp6 without auto: no RA, no SLAAC (a fresh namespace would accept both)', () => {
    expect(cmds('[interface]\nnic = ens19\naddress = 10.0.0.2/24, dhcp6\n')).to.deep.equal([
      'ip netns exec mgmt sysctl -q -w net.ipv6.conf.ens19.accept_ra=0',
      'ip netns exec mgmt sysctl -q -w net.ipv6.conf.ens19.autoconf=0',
    ]);
  });
  it('with auto: RAs accepted even with forwarding on (2), SLAAC on, the default router from the RA', () => {
    expect(cmds('[interface]\nnic = ens19\naddress = auto\n')).to.deep.equal([
      'ip netns exec mgmt sysctl -q -w net.ipv6.conf.ens19.accept_ra=2',
      'ip netns exec mgmt sysctl -q -w net.ipv6.conf.ens19.autoconf=1',
      'ip netns exec mgmt sysctl -q -w net.ipv6.conf.ens19.accept_ra_defrtr=1',
    ]);
  });
  it("with auto and an IPv6 gateway in the profile: the profile's wins, the RA's router is not taken", () => {
    const c = cmds('[interface]\nnic = ens19\naddress = auto\ngateway = fe80::1\n');
    expect(c[2]).to.equal('ip netns exec mgmt sysctl -q -w net.ipv6.conf.ens19.accept_ra_defrtr=0');
  });
  it("nothing is undone or restored: the settings are the NIC's in oob's namespace only", () => {
    expect(
      raSteps(profile('[interface]\nnic = ens19\naddress = auto\n') as NicProfile, 'mgmt', 'ens19').every(
        (s) => !s.undo.length,
      ),
    ).to.equal(true);
  });
});
