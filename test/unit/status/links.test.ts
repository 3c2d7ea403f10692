import { expect } from 'chai';
import { linkChecks } from '../../../src/status/links.js';
import type { Raw, RawProfile } from '../../../src/status/collect.js';
import { link, profile, route, v4 } from '../helpers.js';

const BLUE = `[interface]\nnic = ens20\naddress = 10.20.31.1/24\n[veth]\nname = veth-blue\nhost-name = veth-blue-br\naddress = 192.168.15.2/24\nbridge = v-net-0\nbridge-address = 192.168.15.5/24\n[routes]\nnamespace = 192.168.1.0/24 via 192.168.15.5\n`;

function seen(o: { bridgeUp?: boolean; nsEndUp?: boolean; route?: boolean } = {}): [Raw, RawProfile] {
  const raw = {
    at: '',
    host: {
      links: [
        link('v-net-0', {
          ifindex: 10,
          alias: 'oob-bridge:v-net-0',
          up: o.bridgeUp ?? true,
          addrs: [v4('192.168.15.5')],
        }),
        link('veth-blue-br', { ifindex: 12, alias: 'oob-veth:blue', master: 'v-net-0', addrs: [] }),
      ],
      routes: [],
    },
    profiles: [],
  } as unknown as Raw;
  const p = {
    name: 'blue',
    profile: profile(BLUE, 'blue'),
    ns: {
      links: [link('veth-blue', { ifindex: 2, up: o.nsEndUp ?? true, addrs: [v4('192.168.15.2')] })],
      routes:
        o.route === false ? [] : [route('192.168.1.0/24', 'veth-blue', { gateway: '192.168.15.5', protocol: '79' })],
    },
  } as unknown as RawProfile;
  return [raw, p];
}
const verdicts = (r: [Raw, RawProfile]) => linkChecks(...r).map((c) => `${c.verdict} ${c.check}: ${c.detail}`);

describe('status/links: the doctor checklist for [veth] and [routes]', () => {
  it('all in place: every check passes', () => {
    expect(verdicts(seen())).to.deep.equal([
      'PASS veth created: veth-blue-br (host) - veth-blue (blue)',
      'PASS veth end in the namespace: veth-blue is in blue',
      'PASS veth up: veth-blue-br and veth-blue up',
      'PASS veth addresses: 192.168.15.2/24',
      'PASS bridge up: v-net-0 up, veth-blue-br a port of it',
      'PASS routing configured: 1 extra route(s) in place',
    ]);
  });
  it('a veth end down, the bridge down, a route gone: each a FAIL with the fix', () => {
    expect(linkChecks(...seen({ nsEndUp: false })).find((c) => c.check === 'veth up')).to.deep.equal({
      verdict: 'FAIL',
      check: 'veth up',
      detail: 'veth-blue (blue) administratively down',
      fix: 'oob up blue',
    });
    expect(linkChecks(...seen({ bridgeUp: false })).find((c) => c.check === 'bridge up')).to.deep.equal({
      verdict: 'FAIL',
      check: 'bridge up',
      detail: 'v-net-0 is administratively down',
      fix: 'ip link set v-net-0 up',
    });
    expect(verdicts(seen({ route: false }))).to.include(
      'FAIL routing configured: missing: 192.168.1.0/24 via 192.168.15.5 in blue',
    );
  });
});
