// `status --probe` on real namespaces: a gateway that does not answer is reported as such, and the
// neighbour table is left as it was found (a static entry is never replaced).
import { expect } from 'chai';
import { isRoot, Lab, must } from './lab.js';

describe('integration: status --probe is honest and leaves the neighbour table alone', function () {
  let lab: Lab;
  let routerMac: string;
  before(function () {
    if (!isRoot()) this.skip();
  });
  beforeEach(async () => {
    lab = await Lab.create();
    await lab.writeProfile(lab.seedProfile());
    const r = await lab.oob(['up', lab.profile]);
    expect(r.code, r.stderr).to.equal(0);
    routerMac = (
      JSON.parse(await must(['ip', '-n', lab.router, '-j', 'link', 'show', 'r0'])) as Array<{ address: string }>
    )[0]!.address;
  });
  afterEach(async () => {
    await lab.destroy();
  });
  const entry = async () =>
    (
      JSON.parse(await must(['ip', '-n', lab.profile, '-j', 'neigh', 'show', '10.20.30.20', 'dev', lab.nic])) as Array<{
        lladdr?: string;
        state: string[];
      }>
    ).map((n) => `${n.lladdr ?? '-'} ${n.state.join(',')}`);
  const probe = async () => {
    const r = await lab.oob(['status', '--json', '--probe', lab.profile]);
    return { code: r.code, p: JSON.parse(r.stdout).profiles[0] };
  };

  it('an unanswered probe is a failure (exit 20, doctor FAIL), and the entry that was there is put back', async () => {
    await must(['ip', '-n', lab.router, 'link', 'set', 'r0', 'arp', 'off']); // the gateway stops answering ARP
    await must([
      'ip',
      '-n',
      lab.profile,
      'neigh',
      'replace',
      '10.20.30.20',
      'dev',
      lab.nic,
      'lladdr',
      routerMac,
      'nud',
      'stale',
    ]);
    const { code, p } = await probe();
    expect(code, JSON.stringify(p.problems)).to.equal(20);
    expect(p.gateways[0]).to.include({ address: '10.20.30.20', probe: 'unanswered' });
    expect(p.problems).to.include(`gateway 10.20.30.20 did not answer the ARP/ND probe (${p.gateways[0].neighbour})`);
    expect(await entry()).to.deep.equal([`${routerMac} STALE`]);
    const d = await lab.oob(['doctor', '--probe', lab.profile]);
    expect(d.code, d.stdout).to.equal(20);
    expect(d.stdout).to.match(/^FAIL {2}gateway neighbour +10\.20\.30\.20 did not answer the ARP\/ND probe/m);
    expect(await entry()).to.deep.equal([`${routerMac} STALE`]);
  });

  it('with no entry before an unanswered probe, none is left after it', async () => {
    await must(['ip', '-n', lab.router, 'link', 'set', 'r0', 'arp', 'off']);
    await must(['ip', '-n', lab.profile, 'neigh', 'flush', 'dev', lab.nic]);
    const { code, p } = await probe();
    expect(code).to.equal(20);
    expect(p.gateways[0].probe).to.equal('unanswered');
    expect(await entry()).to.deep.equal([]);
  });

  it('a static PERMANENT entry is never replaced: left alone, reported as static', async () => {
    await must([
      'ip',
      '-n',
      lab.profile,
      'neigh',
      'replace',
      '10.20.30.20',
      'dev',
      lab.nic,
      'lladdr',
      routerMac,
      'nud',
      'permanent',
    ]);
    const { code, p } = await probe();
    expect(code, JSON.stringify(p.problems)).to.equal(0);
    expect(p.gateways[0]).to.include({ neighbour: 'PERMANENT', probe: 'static' });
    expect(await entry()).to.deep.equal([`${routerMac} PERMANENT`]);
    const d = await lab.oob(['doctor', '--probe', lab.profile]);
    expect(d.stdout).to.match(
      /^PASS {2}gateway neighbour +10\.20\.30\.20 PERMANENT \(a static entry: left alone, not probed\)$/m,
    );
  });

  it('an answered probe is reported as answered (REACHABLE), exit 0', async () => {
    await must(['ip', '-n', lab.profile, 'neigh', 'flush', 'dev', lab.nic]);
    const { code, p } = await probe();
    expect(code, JSON.stringify(p.problems)).to.equal(0);
    expect(p.gateways[0]).to.include({ neighbour: 'REACHABLE', probe: 'answered' });
    expect(await entry()).to.deep.equal([`${routerMac} REACHABLE`]);
  });
});
