import { expect } from 'chai';
import { downRank, mergePlans, upRank } from '../../../src/plan/merge.js';
import type { Step } from '../../../src/plan/types.js';

// Steps named by their title ("a:record"), so that a merged plan reads as a list of names.
const ip = (title: string, ns: string | null = null): Step => ({
  kind: 'ip',
  ns,
  args: ['link', 'show'],
  title,
  undo: [],
});
const write = (title: string): Step => ({
  kind: 'write',
  path: `/run/oob/${title}`,
  content: '',
  mode: 0o644,
  title,
  undo: [],
});
const remove = (title: string): Step => ({ kind: 'remove', path: `/run/oob/${title}`, title, undo: [] });
const kill = (title: string): Step => ({ kind: 'kill-ns-pids', ns: 'x', title, undo: [] });
const titles = (steps: Step[]) => steps.map((s) => s.title);

/** The shape of an up plan: the record, the host's side, the inside, the DNS file. */
const upPlan = (p: string): Step[] => [
  write(`${p}:record`),
  ip(`${p}:netns add`),
  ip(`${p}:mark`),
  ip(`${p}:move`),
  ip(`${p}:lo up`, p),
  ip(`${p}:addr`, p),
  write(`${p}:dns`),
];
/** The shape of a down plan: stop what runs inside, move the NIC out, restore it in the host, files. */
const downPlan = (p: string): Step[] => [
  kill(`${p}:kill`),
  ip(`${p}:move back`, p),
  ip(`${p}:restore addr`),
  ip(`${p}:netns del`),
  remove(`${p}:record`),
  remove(`${p}:dns`),
];
/** The steps of one profile, in the order the merged plan has them. */
const of = (merged: Step[], p: string) => titles(merged).filter((t) => t.startsWith(`${p}:`));

describe('plan/merge', () => {
  it('upRank: a file before any ip step is phase 0, host ip 1, namespace ip 2, a file after ip 3', () => {
    expect(upRank(write('r'), false)).to.equal(0);
    expect(upRank(remove('r'), false)).to.equal(0);
    expect(upRank(ip('h'), false)).to.equal(1);
    expect(upRank(ip('n', 'mgmt'), true)).to.equal(2);
    expect(upRank(write('dns'), true)).to.equal(3);
  });

  it('downRank: kill 0, ip inside the namespace 1, ip in the host 2, files 3', () => {
    expect([kill('k'), ip('n', 'mgmt'), ip('h'), remove('r'), write('w')].map((s) => downRank(s, true))).to.deep.equal([
      0, 1, 2, 3, 3,
    ]);
  });

  it('one plan comes out as it went in, for up and down', () => {
    expect(titles(mergePlans([upPlan('a')], upRank))).to.deep.equal(titles(upPlan('a')));
    expect(titles(mergePlans([downPlan('a')], downRank))).to.deep.equal(titles(downPlan('a')));
  });

  it('no plans, or empty ones, merge to what the others have', () => {
    expect(mergePlans([], upRank)).to.deep.equal([]);
    expect(mergePlans([[], []], upRank)).to.deep.equal([]);
    expect(titles(mergePlans([[], upPlan('b'), []], upRank))).to.deep.equal(titles(upPlan('b')));
  });

  it('up: phases are grouped across profiles (records, host side, inside, files), the profiles in the order given', () => {
    expect(titles(mergePlans([upPlan('a'), upPlan('b')], upRank))).to.deep.equal([
      'a:record',
      'b:record',
      'a:netns add',
      'a:mark',
      'a:move',
      'b:netns add',
      'b:mark',
      'b:move',
      'a:lo up',
      'a:addr',
      'b:lo up',
      'b:addr',
      'a:dns',
      'b:dns',
    ]);
  });

  it('down: every kill first, then every move out, then the host side, then files', () => {
    expect(titles(mergePlans([downPlan('a'), downPlan('b')], downRank))).to.deep.equal([
      'a:kill',
      'b:kill',
      'a:move back',
      'b:move back',
      'a:restore addr',
      'a:netns del',
      'b:restore addr',
      'b:netns del',
      'a:record',
      'a:dns',
      'b:record',
      'b:dns',
    ]);
  });

  it("keeps each profile's own order, whatever the others hold", () => {
    const plans = [
      upPlan('a'),
      [ip('b:only host')],
      [write('c:only file')],
      [ip('d:inside', 'd'), write('d:dns')],
      upPlan('e'),
    ];
    const merged = mergePlans(plans, upRank);
    expect(merged).to.have.length(plans.flat().length);
    for (const p of ['a', 'b', 'c', 'd', 'e'])
      expect(of(merged, p), p).to.deep.equal(titles(plans.flat()).filter((t) => t.startsWith(`${p}:`)));
  });

  it('a phase never drops within a plan: a host step after an inside step stays after it', () => {
    // a's rank goes 2 then 1: its host step keeps phase 2, so b's host step (phase 1) comes before both
    const merged = mergePlans([[ip('a:inside', 'a'), ip('a:host')], [ip('b:host')]], upRank);
    expect(titles(merged)).to.deep.equal(['b:host', 'a:inside', 'a:host']);
  });

  it('a file after an ip step is a late file (phase 3), not a record (phase 0)', () => {
    const merged = mergePlans(
      [
        [ip('a:host'), write('a:late')],
        [write('b:record'), ip('b:host')],
      ],
      upRank,
    );
    expect(titles(merged)).to.deep.equal(['b:record', 'a:host', 'b:host', 'a:late']);
  });

  it('is stable: steps of the same phase keep the order of the plans given', () => {
    expect(titles(mergePlans([[ip('a:1'), ip('a:2')], [ip('b:1')]], upRank))).to.deep.equal(['a:1', 'a:2', 'b:1']);
    expect(titles(mergePlans([[ip('b:1')], [ip('a:1'), ip('a:2')]], upRank))).to.deep.equal(['b:1', 'a:1', 'a:2']);
  });

  it('returns the same step objects and leaves its input alone', () => {
    const plans = [upPlan('a'), upPlan('b')];
    const before = plans.map((p) => [...p]);
    const merged = mergePlans(plans, upRank);
    expect(plans).to.deep.equal(before);
    expect(plans.every((p, i) => p.every((s, j) => s === before[i]![j]))).to.equal(true);
    expect(merged.every((s) => plans.flat().includes(s))).to.equal(true);
  });
});
