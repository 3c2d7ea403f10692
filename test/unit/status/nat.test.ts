import { expect } from 'chai';
import type { NatObservation } from '../../../src/observe/nat.js';
import { renderTable } from '../../../src/plan/nat.js';
import type { RawProfile } from '../../../src/status/collect.js';
import { natChecks, natProblems, natStatus } from '../../../src/status/nat.js';
import { profile } from '../helpers.js';

const BLUE =
  `[interface]\nnic = ens20\naddress = 10.20.31.1/24\n` +
  `[veth]\nname = veth-blue\nhost-name = veth-blue-br\naddress = 192.168.15.2/24\nhost-address = 192.168.15.5/24\n` +
  `[nat]\nhost = 192.168.15.0/24 out eth0\nnamespace = 192.168.15.0/24 out ens20\n` +
  `[forward]\nhost = tcp 192.168.1.2:80 to 192.168.15.2:80\n`;
const FWD = 'net.ipv4.ip_forward';
const pr = profile(BLUE, 'blue');
const comments = (script: string) =>
  [...script.matchAll(/comment "(oob: (?:forward|masquerade)[^"]*)"/g)].map((m) => m[1]!);
const table = (script: string, drop = 0) => ({
  family: 'inet',
  name: 'oob-blue',
  chains: [],
  rules: comments(script)
    .slice(drop)
    .map((comment) => ({ chain: 'x', comment })),
});

function seen(o: { hostFwd?: string; nsFwd?: string; hostTable?: boolean; drop?: number; claimed?: boolean } = {}) {
  const hostScript = renderTable(pr, 'host')!;
  const nsScript = renderTable(pr, 'namespace')!;
  const nat: NatObservation = {
    host: {
      sysctls: { [FWD]: o.hostFwd ?? '1' },
      ...(o.hostTable === false ? {} : { table: table(hostScript, o.drop ?? 0) }),
    },
    ns: { sysctls: { [FWD]: o.nsFwd ?? '1' }, table: table(nsScript) },
    record: {
      version: 1,
      profile: 'blue',
      host: { script: o.claimed === false ? '' : hostScript, sysctls: { [FWD]: '0' } },
      namespace: { script: nsScript, sysctls: { [FWD]: '0' } },
    },
    others: [],
    sshPorts: [],
  };
  return { name: 'blue', profile: pr, ns: { links: [], routes: [], neigh: [] }, nat } as unknown as RawProfile;
}
const verdicts = (p: RawProfile) => natChecks(p).map((c) => `${c.verdict} ${c.check}: ${c.detail}`);

describe('status/nat: NAT rules and IP forwarding in status and doctor', () => {
  it('all in place: every check passes, status shows each entry present', () => {
    expect(verdicts(seen())).to.deep.equal([
      'PASS NAT rules: 1 masquerade, 1 forward in table inet oob-blue in the host',
      'PASS NAT rules: 1 masquerade, 0 forward in table inet oob-blue in namespace blue',
      'PASS IP forwarding: net.ipv4.ip_forward = 1 in the host (its [nat]/[forward] route through it)',
      'PASS IP forwarding: net.ipv4.ip_forward = 1 in blue (its [nat]/[forward] route through it)',
    ]);
    const st = natStatus(seen());
    expect(st.ipForward).to.deep.equal({ host: true, namespace: true });
    expect(st.nat.map((m) => m.present)).to.deep.equal([true, true]);
    expect(st.forwards).to.deep.equal([
      { side: 'host', proto: 'tcp', listen: '192.168.1.2', port: 80, to: '192.168.15.2', toPort: 80, present: true },
    ]);
    expect(natProblems(seen(), st)).to.deep.equal([]);
  });

  it('the table gone, a rule gone, a table no record claims, forwarding off: each a FAIL with the fix', () => {
    const gone = natChecks(seen({ hostTable: false }));
    expect(gone[0]).to.deep.equal({
      verdict: 'FAIL',
      check: 'NAT rules',
      detail: 'no table inet oob-blue in the host',
      fix: 'oob up blue',
    });
    expect(verdicts(seen({ drop: 1 }))[0]).to.equal(
      'FAIL NAT rules: table inet oob-blue in the host lacks: forward tcp 80 to 192.168.15.2:80',
    );
    expect(verdicts(seen({ claimed: false }))[0]).to.equal(
      'FAIL NAT rules: table inet oob-blue in the host was not loaded by oob (no record of it)',
    );
    expect(natChecks(seen({ nsFwd: '0' })).find((c) => c.verdict === 'FAIL')).to.deep.equal({
      verdict: 'FAIL',
      check: 'IP forwarding',
      detail: 'net.ipv4.ip_forward is 0 in blue: its [nat]/[forward] entries route through it',
      fix: 'oob up blue',
    });
    const off = seen({ hostFwd: '0', hostTable: false });
    expect(natProblems(off, natStatus(off))).to.deep.equal([
      'NAT rules missing: masquerade 192.168.15.0/24 out eth0 (host), forward tcp 80 to 192.168.15.2:80 (host)',
      'IP forwarding is off in the host',
    ]);
  });

  it('nft unreadable (not installed): one FAIL naming the package', () => {
    const p = { ...seen(), natError: 'nft is not installed (or not on PATH)' } as RawProfile;
    expect(natChecks(p)).to.deep.equal([
      {
        verdict: 'FAIL',
        check: 'NAT rules',
        detail: 'nft is not installed (or not on PATH)',
        fix: 'apt-get install nftables',
      },
    ]);
  });

  it('a profile without [nat]/[forward]: nothing checked, nothing in status', () => {
    const p = { name: 'red', profile: profile(BLUE.replace(/\[nat\][\s\S]*$/, ''), 'red'), ns: {} } as RawProfile;
    expect(natChecks(p)).to.deep.equal([]);
    expect(natStatus(p)).to.deep.equal({ nat: [], forwards: [], ipForward: { host: null, namespace: null } });
  });
});
