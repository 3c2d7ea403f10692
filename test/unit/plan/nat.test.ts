import { expect } from 'chai';
import { stepCommand } from '../../../src/engine/apply.js';
import { OobError } from '../../../src/errors.js';
import type { NftTable } from '../../../src/net/nft.js';
import { parseNftRuleset } from '../../../src/net/nft.js';
import type { NatObservation } from '../../../src/observe/nat.js';
import { planNatDown, planNatUp, renderTable } from '../../../src/plan/nat.js';
import type { Step } from '../../../src/plan/types.js';
import type { NatRecord } from '../../../src/state/nat.js';
import { profile } from '../helpers.js';

const BLUE =
  `[interface]\nnic = ens20\naddress = 10.20.31.1/24\n` +
  `[veth]\nname = veth-blue\nhost-name = veth-blue-br\naddress = 192.168.15.2/24\nbridge = v-net-0\nbridge-address = 192.168.15.5/24\n` +
  `[nat]\nhost = 192.168.15.0/24 out eth0\n[forward]\nhost = tcp 192.168.1.2:80 to 192.168.15.2:80\n`;
const RED = BLUE.replace(/blue/g, 'red')
  .replace('ens20', 'ens19')
  .replace(/192\.168\.15\.2\b/g, '192.168.15.1');
const FWD = 'net.ipv4.ip_forward';
const paths = (n: string) => ({ natFile: `/run/oob/${n}/nat.json` });
const cmds = (steps: Step[]) => steps.map((s) => stepCommand(s).split('\n')[0]);

/** The table as nft -j would list it once renderTable's script is loaded. */
function loaded(script: string): NftTable {
  const rules = [...script.matchAll(/^\t\t(?!type ).* comment "([^"]+)"$/gm)].map((m, i, all) => ({
    chain:
      script.lastIndexOf('chain prerouting', m.index) > script.lastIndexOf('chain postrouting', m.index)
        ? 'prerouting'
        : 'postrouting',
    comment: m[1]!,
    i,
    n: all.length,
  }));
  return {
    family: 'inet',
    name: /table inet (\S+)/.exec(script)![1]!,
    chains: [
      { name: 'prerouting', type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' },
      { name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' },
    ],
    rules: rules.map(({ chain, comment }) => ({ chain, comment })),
  };
}
const view = (o: Partial<NatObservation> & { fwd?: string } = {}): NatObservation => ({
  host: { sysctls: { [FWD]: o.fwd ?? '0' } },
  others: [],
  sshPorts: [],
  ...o,
});

describe('plan/nat: tables and forwarding', () => {
  it('renders one inet table per side, each rule with the comment that names it', () => {
    expect(renderTable(profile(BLUE, 'blue'), 'host')).to.equal(
      [
        'table inet oob-blue {',
        '\tcomment "oob: profile blue; edit the profile, not this table"',
        '\tchain prerouting {',
        '\t\ttype nat hook prerouting priority dstnat; policy accept;',
        '\t\tip daddr 192.168.1.2 tcp dport 80 dnat ip to 192.168.15.2:80 comment "oob: forward tcp 192.168.1.2:80 to 192.168.15.2:80"',
        '\t}',
        '\tchain postrouting {',
        '\t\ttype nat hook postrouting priority srcnat; policy accept;',
        '\t\tip saddr 192.168.15.0/24 oifname "eth0" masquerade comment "oob: masquerade 192.168.15.0/24 out eth0"',
        '\t}',
        '}',
        '',
      ].join('\n'),
    );
    expect(renderTable(profile(BLUE, 'blue'), 'namespace')).to.equal(undefined);
    const any = profile(BLUE.replace('tcp 192.168.1.2:80', 'udp 514'), 'blue');
    expect(renderTable(any, 'host')).to.include(
      'meta nfproto ipv4 fib daddr type local udp dport 514 dnat ip to 192.168.15.2:80',
    );
  });

  it('fresh: the record first, the table, forwarding on (undo: back to 0); the record keeps 0', () => {
    const [p] = planNatUp([profile(BLUE, 'blue')], [view()], [paths('blue')], false);
    expect(cmds(p!.steps)).to.deep.equal([
      'write /run/oob/blue/nat.json (10 lines, mode 600)',
      "nft -f - <<'EOF'",
      'sysctl -q -w net.ipv4.ip_forward=1',
    ]);
    const rec = JSON.parse((p!.steps[0] as { content: string }).content) as NatRecord;
    expect(rec.host?.sysctls).to.deep.equal({ [FWD]: '0' });
    expect(rec.host?.script).to.equal(renderTable(profile(BLUE, 'blue'), 'host'));
    expect(rec.namespace).to.equal(undefined);
    expect(cmds(p!.steps[1]!.undo)).to.deep.equal(["nft -f - <<'EOF'"]);
    expect((p!.steps[1]!.undo[0] as { script: string }).script).to.equal(
      'table inet oob-blue\ndelete table inet oob-blue\n',
    );
    expect((p!.steps[1] as { script: string }).script).to.match(
      /^table inet oob-blue\ndelete table inet oob-blue\ntable inet oob-blue \{\n/,
    );
    expect(cmds(p!.steps[2]!.undo)).to.deep.equal(['sysctl -q -w net.ipv4.ip_forward=0']);
  });

  it('a second up has nothing to do; a table changed by hand is loaded again, its undo the recorded one', () => {
    const pr = profile(BLUE, 'blue');
    const [first] = planNatUp([pr], [view()], [paths('blue')], false);
    const record = JSON.parse((first!.steps[0] as { content: string }).content) as NatRecord;
    const table = loaded(record.host!.script);
    const [again] = planNatUp(
      [pr],
      [view({ fwd: '1', record, host: { sysctls: { [FWD]: '1' }, table } })],
      [paths('blue')],
      false,
    );
    expect(again!.steps).to.deep.equal([]);
    const tampered = { ...table, rules: table.rules.slice(1) };
    const [fix] = planNatUp(
      [pr],
      [view({ record, host: { sysctls: { [FWD]: '1' }, table: tampered } })],
      [paths('blue')],
      false,
    );
    expect(cmds(fix!.steps)).to.deep.equal(["nft -f - <<'EOF'"]);
    expect((fix!.steps[0]!.undo[0] as { script: string }).script).to.include(record.host!.script);
  });

  it('a table oob-NAME that no record claims is refused', () => {
    const table = loaded(renderTable(profile(BLUE, 'blue'), 'host')!);
    expect(() => planNatUp([profile(BLUE, 'blue')], [view({ host: { sysctls: {}, table } })], [paths('blue')], false))
      .to.throw(OobError, /a table inet oob-blue exists in the host and oob did not create it/)
      .with.property('code', 'precondition');
  });

  it('the profile drops its [nat]/[forward]: the table goes, forwarding back, the record forgotten', () => {
    const [first] = planNatUp([profile(BLUE, 'blue')], [view()], [paths('blue')], false);
    const record = JSON.parse((first!.steps[0] as { content: string }).content) as NatRecord;
    const bare = profile(BLUE.replace(/\[nat\][\s\S]*$/, ''), 'blue');
    const [p] = planNatUp(
      [bare],
      [view({ record, host: { sysctls: { [FWD]: '1' }, table: loaded(record.host!.script) } })],
      [paths('blue')],
      false,
    );
    expect(cmds(p!.steps)).to.deep.equal([
      "nft -f - <<'EOF'",
      'sysctl -q -w net.ipv4.ip_forward=0',
      'rm -f /run/oob/blue/nat.json',
    ]);
    expect(cmds(p!.steps[2]!.undo)).to.deep.equal(['write /run/oob/blue/nat.json (10 lines, mode 600)']);
  });

  it('the host switch is shared: set once in one call, each record keeps the value from before the first', () => {
    const [r, b] = planNatUp(
      [profile(RED, 'red'), profile(BLUE, 'blue')],
      [view(), view()],
      [paths('red'), paths('blue')],
      false,
    );
    expect(cmds(r!.steps).filter((c) => c.startsWith('sysctl'))).to.deep.equal(['sysctl -q -w net.ipv4.ip_forward=1']);
    expect(cmds(b!.steps).filter((c) => c.startsWith('sysctl'))).to.deep.equal([]);
    for (const s of [r!, b!])
      expect((JSON.parse((s.steps[0] as { content: string }).content) as NatRecord).host?.sysctls).to.deep.equal({
        [FWD]: '0',
      });
    // later, alone: red is up (its record says 0), forwarding is on: blue records 0, sets nothing
    const red: NatRecord = { version: 1, profile: 'red', host: { script: 'x', sysctls: { [FWD]: '0' } } };
    const [later] = planNatUp([profile(BLUE, 'blue')], [view({ fwd: '1', others: [red] })], [paths('blue')], false);
    expect(cmds(later!.steps).filter((c) => c.startsWith('sysctl'))).to.deep.equal([]);
    expect((JSON.parse((later!.steps[0] as { content: string }).content) as NatRecord).host?.sysctls).to.deep.equal({
      [FWD]: '0',
    });
  });

  describe('down: the last profile that needs the host switch puts it back, in either order', () => {
    const rec = (n: string): NatRecord => ({ version: 1, profile: n, host: { script: 'x', sysctls: { [FWD]: '0' } } });
    const v = (n: string, other: string): NatObservation => ({
      host: { sysctls: { [FWD]: '1' }, table: { family: 'inet', name: `oob-${n}`, chains: [], rules: [] } },
      record: rec(n),
      others: [rec(other)],
      sshPorts: [],
    });
    for (const [first, second] of [
      ['red', 'blue'],
      ['blue', 'red'],
    ] as const)
      it(`${first} then ${second}`, () => {
        const [a] = planNatDown([first], [v(first, second)], [paths(first)]);
        expect(cmds(a!)).to.deep.equal(["nft -f - <<'EOF'", `rm -f /run/oob/${first}/nat.json`]);
        const alone: NatObservation = { ...v(second, first), others: [] };
        const [b] = planNatDown([second], [alone], [paths(second)]);
        expect(cmds(b!)).to.deep.equal([
          "nft -f - <<'EOF'",
          'sysctl -q -w net.ipv4.ip_forward=0',
          `rm -f /run/oob/${second}/nat.json`,
        ]);
        expect(b![2]!.needs).to.deep.equal([`${second}:nat-table`, `${second}:sysctl:${FWD}`]);
      });
    it('both in one call: only the last one named restores', () => {
      const [a, b] = planNatDown(['red', 'blue'], [v('red', 'blue'), v('blue', 'red')], [paths('red'), paths('blue')]);
      expect(cmds(a!).filter((c) => c.startsWith('sysctl'))).to.deep.equal([]);
      expect(cmds(b!).filter((c) => c.startsWith('sysctl'))).to.deep.equal(['sysctl -q -w net.ipv4.ip_forward=0']);
    });
    it('a value that was 1 before oob is left at 1', () => {
      const one: NatRecord = { version: 1, profile: 'red', host: { script: 'x', sysctls: { [FWD]: '1' } } };
      const [a] = planNatDown(['red'], [{ ...v('red', 'blue'), record: one, others: [] }], [paths('red')]);
      expect(cmds(a!).filter((c) => c.startsWith('sysctl'))).to.deep.equal([]);
    });
  });

  it("a forward on the host's SSH port: refused (lockout) unless forced, and then said", () => {
    const p = profile(BLUE.replace('tcp 192.168.1.2:80', 'tcp 2222'), 'blue');
    expect(() => planNatUp([p], [view({ sshPorts: [2222] })], [paths('blue')], false))
      .to.throw(OobError, /takes TCP port 2222, the host's SSH port/)
      .with.property('code', 'lockout');
    const [forced] = planNatUp([p], [view({ sshPorts: [2222] })], [paths('blue')], true);
    expect(forced!.overridden).to.have.length(1);
    expect(forced!.notes[0]).to.match(/^--force: \[forward\] host "tcp 2222 to 192\.168\.15\.2:80"/);
    // port 22 is refused whatever is observed
    const p22 = profile(BLUE.replace('tcp 192.168.1.2:80', 'tcp 192.168.1.2:22'), 'blue');
    expect(() => planNatUp([p22], [view()], [paths('blue')], false)).to.throw(OobError, /TCP port 22/);
  });

  it('net/nft: reads chains and rule comments of nft -j output', () => {
    const t = parseNftRuleset(
      JSON.stringify({
        nftables: [
          { metainfo: { version: '1.0.6' } },
          { table: { family: 'inet', name: 'oob-blue', handle: 3 } },
          { table: { family: 'ip', name: 'other', handle: 4 } },
          {
            chain: {
              family: 'inet',
              table: 'oob-blue',
              name: 'postrouting',
              handle: 1,
              type: 'nat',
              hook: 'postrouting',
              prio: 100,
              policy: 'accept',
            },
          },
          { rule: { family: 'inet', table: 'oob-blue', chain: 'postrouting', handle: 2, comment: 'c', expr: [] } },
          { rule: { family: 'ip', table: 'other', chain: 'x', handle: 2, expr: [] } },
        ],
      }),
    );
    expect(t.get('inet oob-blue')).to.deep.equal({
      family: 'inet',
      name: 'oob-blue',
      chains: [{ name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' }],
      rules: [{ chain: 'postrouting', comment: 'c' }],
    });
    expect(t.get('ip other')?.rules).to.deep.equal([{ chain: 'x' }]);
    expect(() => parseNftRuleset('{"x":1}')).to.throw(/no "nftables" array/);
  });
});
