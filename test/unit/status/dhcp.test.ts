// address = dhcp in status and doctor: the lease shown; degraded without a valid lease, down without any address.
import { expect } from 'chai';
import type { Raw, RawProfile } from '../../../src/status/collect.js';
import { doctor } from '../../../src/status/doctor.js';
import { formatStatus } from '../../../src/status/format.js';
import { summarize } from '../../../src/status/model.js';
import { parseLease } from '../../../src/state/lease.js';
import { link, profile, route, v4 } from '../helpers.js';

const AT = '2026-11-22T12:00:00.000Z';
const at = Date.parse(AT) / 1000;
const LEASE = (obtained: number) =>
  parseLease(
    `address=10.20.30.100/24\nserver=10.20.30.20\nrouter=10.20.30.20\ndns=10.20.30.53\nobtained=${obtained}\nlease=120\n`,
  )!;

function raw(o: { addrs: string[]; lease?: ReturnType<typeof LEASE>; supervisor?: boolean }): Raw {
  const p: RawProfile = {
    name: 'mgmt',
    file: '/p/mgmt.ini',
    logFile: '/run/oob/mgmt/supervisor.log',
    goneServices: [],
    profile: profile('[interface]\nnic = ens19\naddress = dhcp\n'),
    ns: {
      links: [link('ens19', { alias: 'oob:mgmt:ens19', addrs: o.addrs.map((a) => v4(a)) })],
      routes: [route('default', 'ens19', { gateway: '10.20.30.20' })],
      neigh: [],
    },
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
            services: { dhcp4: { phase: 'running' as const, pid: 11, ready: true, restarts: 0, startedAt: AT } },
          },
        }),
    supervisorAlive: o.supervisor !== false,
    ...(o.lease ? { lease: o.lease } : {}),
    unit: { systemd: false, enabled: null },
    managers: { networkManager: false, nmRule: false, networkd: false, networkdRule: false },
    sockets: {},
  };
  return { at: AT, host: { links: [], routes: [] }, profiles: [p] };
}

describe('status/model and doctor: the DHCP lease', () => {
  it('a valid lease with its address on the NIC: ok, shown with server, obtained and expiry; doctor passes', () => {
    const r = raw({ addrs: ['10.20.30.100'], lease: LEASE(at - 30) });
    const st = summarize(r).profiles[0]!;
    expect(st.health, st.problems.join()).to.equal('ok');
    expect(st.dhcp).to.deep.equal({
      address: '10.20.30.100/24',
      server: '10.20.30.20',
      obtained: '2026-11-22T11:59:30.000Z',
      expires: '2026-11-22T12:01:30.000Z',
      valid: true,
    });
    expect(formatStatus(summarize(r), false)).to.include(
      'dhcp     10.20.30.100/24 from 10.20.30.20, obtained 2026-11-22T11:59:30.000Z, expires 2026-11-22T12:01:30.000Z',
    );
    expect(doctor(r, r.profiles[0]!, st).find((c) => c.check === 'DHCP lease')).to.include({ verdict: 'PASS' });
  });

  it('an expired lease while a static address remains: degraded, and doctor says how to fix it', () => {
    const r = raw({ addrs: ['10.20.30.1'], lease: LEASE(at - 600) });
    const st = summarize(r).profiles[0]!;
    expect(st.health).to.equal('degraded');
    expect(st.problems).to.include('the DHCP lease of 10.20.30.100/24 expired at 2026-11-22T11:52:00.000Z');
    const c = doctor(r, r.profiles[0]!, st).find((x) => x.check === 'DHCP lease')!;
    expect(c.verdict).to.equal('FAIL');
    expect(c.fix).to.match(/^check the DHCP server on the management LAN/);
  });

  it('no lease and no address at all: down; no supervisor: the fix starts it', () => {
    const r = raw({ addrs: [], supervisor: false });
    const st = summarize(r).profiles[0]!;
    expect(st.health).to.equal('down');
    expect(st.dhcp).to.deep.equal({ address: null, server: null, obtained: null, expires: null, valid: false });
    expect(formatStatus(summarize(r), false)).to.include('dhcp     NO LEASE');
    const c = doctor(r, r.profiles[0]!, st).find((x) => x.check === 'DHCP lease')!;
    expect(c).to.include({ verdict: 'FAIL', fix: 'oob start mgmt (the DHCP client runs under the supervisor)' });
  });

  it('a profile without dhcp has dhcp: null and no DHCP check', () => {
    const r = raw({ addrs: ['10.20.30.100'] });
    r.profiles[0]!.profile = profile('[interface]\nnic = ens19\naddress = 10.20.30.100/24\n');
    const st = summarize(r).profiles[0]!;
    expect(st.dhcp).to.equal(null);
    expect(doctor(r, r.profiles[0]!, st).some((c) => c.check === 'DHCP lease')).to.equal(false);
  });
});
