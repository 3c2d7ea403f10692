// A profile without a NIC (the tutorial's red and blue): up and down plan the namespace, its record
// and the links, and nothing of a NIC.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { stepCommand } from '../../../src/engine/apply.js';
import { OobError } from '../../../src/errors.js';
import { planDown } from '../../../src/plan/down.js';
import { planLinksUp } from '../../../src/plan/links.js';
import { mergePlans, upRank } from '../../../src/plan/merge.js';
import { planUp } from '../../../src/plan/up.js';
import type { Observation } from '../../../src/observe/types.js';
import { host, link, paths, profile, v4 } from '../helpers.js';

const tutorial = (name: string) =>
  profile(readFileSync(new URL(`../../../../profiles/tutorial/${name}.ini`, import.meta.url), 'utf8'), name);
const cmds = (steps: { kind: string }[]) => steps.map((s) => stepCommand(s as never));
const O = { force: false, hostPid: 1, now: '2026-01-01T00:00:00.000Z' };
const NS_RECORD = { version: 1 as const, profile: 'red', hostNetns: 'net:[4026531840]', at: O.now };
const pathsOf = (ns: string) => ({ ...paths, nsRecordFile: `/run/oob/${ns}/netns.json` });

/** The host after `oob up red`: namespace, record, veth on the bridge. */
function upRed(o: Partial<Observation> = {}): Observation {
  const h = host();
  return {
    ...h,
    host: {
      ...h.host,
      links: [
        ...h.host.links,
        link('v-net-0', { ifindex: 10, alias: 'oob-bridge:v-net-0', addrs: [v4('192.168.15.5')] }),
        link('veth-red-br', { ifindex: 11, alias: 'oob-veth:red', master: 'v-net-0' }),
      ],
    },
    namespaces: ['red'],
    ns: {
      links: [link('lo', { ifindex: 1 }), link('veth-red', { ifindex: 2, addrs: [v4('192.168.15.1')] })],
      routes: [],
    },
    nsRecord: NS_RECORD,
    ...o,
  };
}

describe('plan/netns: a profile without a NIC', () => {
  it('up on a fresh host: the namespace record, the namespace, lo; no NIC step, no NIC record', () => {
    const p = planUp(tutorial('red'), host(), pathsOf('red'), O);
    expect(cmds(p.steps)).to.deep.equal([
      'write /run/oob/red/netns.json (6 lines, mode 600)',
      'ip netns add red',
      'ip -n red link set dev lo up',
    ]);
    expect(p.nicName).to.equal(undefined);
    expect(p.addresses).to.deep.equal(['192.168.15.1/24']);
    expect(JSON.parse((p.steps[0] as { content: string }).content)).to.deep.equal(NS_RECORD);
    // the undo of the record is its removal; of the namespace its deletion
    expect(cmds(p.steps[0]!.undo)).to.deep.equal(['rm -f /run/oob/red/netns.json']);
    expect(cmds(p.steps[1]!.undo)).to.deep.equal(['ip netns del red']);
  });

  it('up red blue in one call: the record first, then the host side (the bridge once), then inside', () => {
    const profiles = [tutorial('red'), tutorial('blue')];
    const plans = profiles.map((p) => planUp(p, host(), pathsOf(p.name), O).steps);
    planLinksUp(profiles, [host(), host()]).forEach((s, i) => plans[i]!.push(...s));
    const merged = cmds(mergePlans(plans, upRank));
    expect(merged.slice(0, 4)).to.deep.equal([
      'write /run/oob/red/netns.json (6 lines, mode 600)',
      'write /run/oob/blue/netns.json (6 lines, mode 600)',
      'ip netns add red',
      'ip netns add blue',
    ]);
    expect(merged.filter((c) => c.includes('type bridge'))).to.deep.equal(['ip link add v-net-0 type bridge']);
    expect(merged.indexOf('ip link add v-net-0 type bridge')).to.be.below(
      merged.indexOf('ip link set dev veth-blue-br master v-net-0'),
    );
    expect(merged).to.include('ip -n blue route replace 0.0.0.0/0 via 192.168.15.5 proto 79');
    expect(merged.some((c) => c.includes('nic.json') || /link set dev \S+ netns/.test(c))).to.equal(false);
  });

  it('up again when everything is in place: nothing to do', () => {
    const s = upRed();
    const p = planUp(tutorial('red'), s, pathsOf('red'), O);
    expect(p.steps).to.deep.equal([]);
    expect(planLinksUp([tutorial('red')], [s])[0]).to.deep.equal([]);
  });

  it('an oob killed after "ip netns add": the record says the namespace is oob\'s, the next up finishes it', () => {
    const s = upRed({ ns: { links: [link('lo', { ifindex: 1, up: false })], routes: [] } });
    s.host.links = s.host.links.filter((l) => l.ifname !== 'veth-red-br');
    expect(cmds(planUp(tutorial('red'), s, pathsOf('red'), O).steps)).to.deep.equal(['ip -n red link set dev lo up']);
    expect(cmds(planLinksUp([tutorial('red')], [s])[0]!)).to.include(
      'ip link add veth-red-br type veth peer name veth-red netns red',
    );
  });

  it('refuses a namespace of that name that oob did not create, and a NIC left from a profile that had one', () => {
    const foreign = upRed();
    delete foreign.nsRecord;
    expect(() => planUp(tutorial('red'), foreign, pathsOf('red'), O))
      .to.throw(OobError)
      .with.property('message')
      .match(/a network namespace "red" exists that oob did not create/);
    const withNic = upRed();
    withNic.ns!.links.push(link('ens19', { ifindex: 3, alias: 'oob:red:ens19' }));
    expect(() => planUp(tutorial('red'), withNic, pathsOf('red'), O))
      .to.throw(OobError)
      .with.property('message')
      .match(/ens19 is red's NIC from before, and \/p\/red\.ini names no NIC now: run "oob down red" first/);
  });

  it('down: stop the processes, delete the namespace, then forget the record (only once it is gone)', () => {
    const d = planDown('red', upRed(), pathsOf('red'), { hostPid: 1 });
    expect(cmds(d.steps)).to.deep.equal([
      'kill $(ip netns pids red)  (SIGTERM, then SIGKILL after 5 s)',
      'ip netns del red',
      'rm -f /run/oob/red/netns.json',
    ]);
    expect(d.steps[2]!.needs).to.deep.equal(['red:nsdel']);
    expect(d.left).to.deep.equal([]);
  });

  it("down of a namespace deleted by hand: only the record goes; without a record, a namespace is not oob's", () => {
    const gone = upRed({ namespaces: [] });
    delete gone.ns;
    expect(cmds(planDown('red', gone, pathsOf('red'), { hostPid: 1 }).steps)).to.deep.equal([
      'rm -f /run/oob/red/netns.json',
    ]);
    const foreign = upRed();
    delete foreign.nsRecord;
    expect(() => planDown('red', foreign, pathsOf('red'), { hostPid: 1 })).to.throw(/was not created by oob/);
  });
});
