// address = dhcp6 / auto in status and doctor: the DHCPv6 lease and the SLAAC addresses; degraded without them.
import { expect } from 'chai';
import type { AddrInfo } from '../../../src/net/ipjson.js';
import type { Raw, RawProfile } from '../../../src/status/collect.js';
import { doctor } from '../../../src/status/doctor.js';
import { formatStatus } from '../../../src/status/format.js';
import { summarize } from '../../../src/status/model.js';
import { parseLease } from '../../../src/state/lease.js';
import { link, profile, v4 } from '../helpers.js';

const AT = '2026-11-22T12:00:00.000Z';
const at = Date.parse(AT) / 1000;
const LEASE6 = (obtained: number) =>
  parseLease(
    `address=2001:db8:30::191/128\nserver=000100013a\nrouter=\ndns=2001:db8:30::53\nobtained=${obtained}\nlease=120\n`,
  )!;
const v6 = (local: string, prefixlen: number, dynamic = true): AddrInfo => ({
  family: 'inet6',
  local,
  prefixlen,
  scope: 'global',
  dynamic,
});

function raw(o: { text: string; addrs: AddrInfo[]; lease6?: ReturnType<typeof LEASE6>; supervisor?: boolean }): Raw {
  const p: RawProfile = {
    name: 'mgmt',
    file: '/p/mgmt.ini',
    logFile: '/run/oob/mgmt/supervisor.log',
    goneServices: [],
    profile: profile(o.text),
    ns: { links: [link('ens19', { alias: 'oob:mgmt:ens19', addrs: o.addrs })], routes: [], neigh: [] },
    ...(o.supervisor === false
      ? {}
      : {
          state: {
            version: 1 as const,
            profile: 'mgmt',
            supervisor: { pid: 10, startedAt: AT },
            network: 'up' as const,
            ready: true,
            updatedAt: AT,
            services: { dhcp6: { phase: 'running' as const, pid: 11, ready: true, restarts: 0, startedAt: AT } },
          },
        }),
    supervisorAlive: o.supervisor !== false,
    ...(o.lease6 ? { lease6: o.lease6 } : {}),
    unit: { systemd: false, enabled: null },
    managers: { networkManager: false, nmRule: false, networkd: false, networkdRule: false },
    sockets: {},
  };
  return { at: AT, host: { links: [], routes: [] }, profiles: [p] };
}
const DHCP6 = '[interface]\nnic = ens19\naddress = dhcp6\n';
const AUTO = '[interface]\nnic = ens19\naddress = auto\n';

describe('status/model and doctor: the DHCPv6 lease and SLAAC', () => {
  it('a valid DHCPv6 lease on the NIC: shown, ok, doctor passes', () => {
    const r = raw({ text: DHCP6, addrs: [v6('2001:db8:30::191', 128)], lease6: LEASE6(at - 10) });
    const st = summarize(r).profiles[0]!;
    expect(st.health, st.problems.join('; ')).to.equal('ok');
    expect(st.dhcp6).to.deep.equal({
      address: '2001:db8:30::191/128',
      server: '000100013a',
      obtained: new Date((at - 10) * 1000).toISOString(),
      expires: new Date((at + 110) * 1000).toISOString(),
      valid: true,
    });
    expect(st.dhcp).to.equal(null);
    expect(st.slaac).to.equal(null);
    expect(formatStatus(summarize(r), false)).to.include('dhcp6    2001:db8:30::191/128 from 000100013a');
    expect(doctor(r, r.profiles[0]!, st).find((c) => c.check === 'DHCPv6 lease')).to.include({ verdict: 'PASS' });
  });

  it('an expired DHCPv6 lease (the server gone): degraded, doctor fails with the fix', () => {
    const r = raw({ text: DHCP6, addrs: [v6('2001:db8:30::191', 128)], lease6: LEASE6(at - 300) });
    const st = summarize(r).profiles[0]!;
    expect(st.health).to.equal('degraded');
    expect(st.problems).to.include(
      `the DHCPv6 lease of 2001:db8:30::191/128 expired at ${new Date((at - 180) * 1000).toISOString()}`,
    );
    const c = doctor(r, r.profiles[0]!, st).find((x) => x.check === 'DHCPv6 lease')!;
    expect(c.verdict).to.equal('FAIL');
    expect(c.fix).to.match(/check the DHCPv6 server/);
  });

  it('no DHCPv6 lease but another address: degraded; no address at all: down; no supervisor: the fix starts it', () => {
    const r = raw({ text: '[interface]\nnic = ens19\naddress = 10.0.0.2/24, dhcp6\n', addrs: [v4('10.0.0.2')] });
    const st = summarize(r).profiles[0]!;
    expect(st.health).to.equal('degraded');
    expect(st.problems).to.include('no DHCPv6 lease (address = dhcp6): the client has none yet');
    expect(summarize(raw({ text: DHCP6, addrs: [] })).profiles[0]!.health).to.equal('down');
    const r2 = raw({ text: DHCP6, addrs: [], supervisor: false });
    const c = doctor(r2, r2.profiles[0]!, summarize(r2).profiles[0]!).find((x) => x.check === 'DHCPv6 lease')!;
    expect(c.fix).to.equal('oob start mgmt (the DHCPv6 client runs under the supervisor)');
  });

  it('the client binary missing (its wrapper exits 127): doctor names the package', () => {
    const r = raw({ text: DHCP6, addrs: [] });
    r.profiles[0]!.state!.services.dhcp6 = {
      phase: 'backoff',
      ready: false,
      restarts: 3,
      lastExit: { code: 127, signal: null, at: AT, reason: 'exited with status 127' },
    };
    const c = doctor(r, r.profiles[0]!, summarize(r).profiles[0]!).find((x) => x.check === 'DHCPv6 lease')!;
    expect(c.verdict).to.equal('FAIL');
    expect(c.fix).to.equal('apt install dhcpcd-base (oob runs its dhcpcd for DHCPv6)');
  });

  it('auto: the SLAAC address shown; none (no RA) is degraded with a doctor check', () => {
    const good = raw({ text: AUTO, addrs: [v6('2001:db8:30::5054:ff:fe00:19', 64)] });
    const st = summarize(good).profiles[0]!;
    expect(st.health, st.problems.join('; ')).to.equal('ok');
    expect(st.slaac).to.deep.equal({ addresses: ['2001:db8:30::5054:ff:fe00:19/64'] });
    expect(formatStatus(summarize(good), false)).to.include('slaac    2001:db8:30::5054:ff:fe00:19/64');
    // a static IPv6 address is no SLAAC address
    const bad = raw({
      text: '[interface]\nnic = ens19\naddress = auto, 2001:db8:30::2/64\n',
      addrs: [v6('2001:db8:30::2', 64, false)],
    });
    const sb = summarize(bad).profiles[0]!;
    expect(sb.health).to.equal('degraded');
    expect(sb.slaac).to.deep.equal({ addresses: [] });
    expect(doctor(bad, bad.profiles[0]!, sb).find((c) => c.check === 'SLAAC address')).to.include({ verdict: 'FAIL' });
  });
});
