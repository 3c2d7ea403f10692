// Profiles without a physical NIC: [interface] is optional when there is a [veth]; the tutorial's
// example profiles (profiles/tutorial/*.ini) all parse.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { parseProfile, ProfileProblems } from '../../../src/profile/parse.js';
import type { Profile } from '../../../src/profile/types.js';

const DIR = new URL('../../../../profiles/tutorial/', import.meta.url);
const parse = (text: string, name = 'red') => parseProfile(name, `/p/${name}.ini`, text);
const ok = (text: string, name = 'red'): Profile => {
  const r = parse(text, name);
  if (r instanceof ProfileProblems) expect.fail(r.lines().join('\n'));
  return r as Profile;
};
const problems = (text: string) => {
  const r = parse(text);
  expect(r, 'expected the profile to be refused').to.be.instanceOf(ProfileProblems);
  return (r as ProfileProblems).lines();
};
const VETH = `[veth]\nname = veth-red\nhost-name = veth-red-br\naddress = 192.168.15.1/24\n`;

describe('profile/parse: profiles without a NIC', () => {
  it('every profile in profiles/tutorial parses', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.ini'));
    expect(files).to.include.members(['red.ini', 'blue.ini']);
    for (const f of files) {
      const p = ok(readFileSync(new URL(f, DIR), 'utf8'), f.slice(0, -4));
      expect(p.links?.veth?.bridge, f).to.equal('v-net-0');
    }
  });

  it("the tutorial's red and blue: no NIC, 192.168.15.1 and .2 on v-net-0 with the host at .5, blue's routes", () => {
    const red = ok(readFileSync(new URL('red.ini', DIR), 'utf8'), 'red');
    const blue = ok(readFileSync(new URL('blue.ini', DIR), 'utf8'), 'blue');
    expect(red.iface).to.equal(undefined);
    expect(blue.iface).to.equal(undefined);
    expect(red.links?.veth?.addresses.map((a) => `${a.address}/${a.prefixlen}`)).to.deep.equal(['192.168.15.1/24']);
    expect(blue.links?.veth?.addresses.map((a) => `${a.address}/${a.prefixlen}`)).to.deep.equal(['192.168.15.2/24']);
    for (const p of [red, blue])
      expect(p.links?.veth?.bridgeAddresses.map((a) => `${a.address}/${a.prefixlen}`)).to.deep.equal([
        '192.168.15.5/24',
      ]);
    expect(blue.links?.nsRoutes).to.deep.equal([
      { dst: '192.168.1.0/24', via: '192.168.15.5', family: 4 },
      { dst: 'default', via: '192.168.15.5', family: 4 },
    ]);
  });

  it('a [veth] alone is a profile; its namespace default route goes in [routes]', () => {
    const p = ok(VETH + `[routes]\nnamespace = default via 192.168.15.5\n`);
    expect(p.iface).to.equal(undefined);
    expect(p.links?.nsRoutes).to.deep.equal([{ dst: 'default', via: '192.168.15.5', family: 4 }]);
  });

  it('with an [interface], the default route stays its gateway =', () => {
    expect(
      problems(
        `[interface]\nnic = ens19\naddress = 10.0.0.1/24\n` + VETH + `[routes]\nnamespace = default via 192.168.15.5\n`,
      ),
    ).to.deep.equal([
      "/p/red.ini:9: [routes] namespace: the namespace's default route is [interface] gateway =: give a subnet here (e.g. 192.168.1.0/24 via 192.168.15.5)",
    ]);
  });

  it('neither [interface] nor [veth]: one line that says both ways', () => {
    expect(problems(`[dns]\nnameserver = 10.0.0.53\n`)).to.deep.equal([
      '/p/red.ini:1: [interface]: no [interface] and no [veth]: the namespace would have no link at all; add [interface] with nic = NAME (a NIC to move), or [veth] (a link to the host)',
    ]);
  });

  it("a broken [veth] without [interface] gives the veth's lines, not a missing-interface one", () => {
    expect(problems(`[veth]\naddress = 192.168.15.1/24\n`)).to.deep.equal([
      '/p/red.ini:1: [veth] name: missing: name the end in the namespace, e.g. name = veth-red',
      '/p/red.ini:1: [veth] host-name: missing: name the end in the host, e.g. host-name = veth-red-br',
    ]);
  });

  it('[routes] host = and namespace = of a profile without a NIC go through the veth', () => {
    expect(problems(VETH + `[routes]\nnamespace = 10.9.0.0/16 via 10.1.1.1\n`)[0]).to.match(
      /10\.1\.1\.1 is outside every subnet of the namespace \(192\.168\.15\.1\/24\)/,
    );
  });
});
