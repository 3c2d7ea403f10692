import { expect } from 'chai';
import type { Raw, RawProfile } from '../../../src/status/collect.js';
import { doctor } from '../../../src/status/doctor.js';
import { formatStatus } from '../../../src/status/format.js';
import { summarize } from '../../../src/status/model.js';
import { link, profile, route, v4 } from '../helpers.js';

const P = profile(
  '[interface]\nnic = ens19\naddress = 10.20.30.1/24\ngateway = 10.20.30.20\n[dns]\nnameserver = 10.20.30.53\n[service.sshd]\nexec = /usr/sbin/sshd -D\nready = tcp:22\n',
);
const AT = '2026-11-22T12:00:00.000Z';

function healthy(): { raw: Raw; p: RawProfile } {
  const p: RawProfile = {
    name: 'mgmt',
    file: '/p/mgmt.ini',
    logFile: '/run/oob/mgmt/supervisor.log',
    profile: P,
    ns: {
      links: [
        link('lo', { mac: '00:00:00:00:00:00' }),
        link('ens19', { alias: 'oob:mgmt:ens19', addrs: [v4('10.20.30.1')] }),
      ],
      routes: [route('default', 'ens19', { gateway: '10.20.30.20' })],
      neigh: [{ dst: '10.20.30.20', dev: 'ens19', lladdr: '52:54:00:00:00:20', state: 'REACHABLE' }],
    },
    state: {
      version: 1,
      profile: 'mgmt',
      supervisor: { pid: 10, startedAt: '2026-11-22T11:00:00.000Z' },
      network: 'up',
      ready: true,
      updatedAt: AT,
      services: {
        sshd: {
          phase: 'running',
          pid: 11,
          ready: true,
          restarts: 2,
          startedAt: '2026-11-22T10:00:00.000Z',
          followed: 'child',
        },
      },
    },
    supervisorAlive: true,
    goneServices: [],
    dnsFile: 'nameserver 10.20.30.53\n',
    unit: { systemd: true, enabled: true },
    managers: { networkManager: false, nmRule: false, networkd: true, networkdRule: true },
    sockets: { sshd: ['tcp:22'] },
  };
  return {
    raw: { at: AT, host: { links: [link('eth0', { addrs: [v4('10.20.30.7')] })], routes: [] }, profiles: [p] },
    p,
  };
}

describe('status/model and doctor (pure)', () => {
  it("a healthy profile is ok, with every field filled in, and a note for the host's same subnet", () => {
    const r = summarize(healthy().raw);
    expect(r.health).to.equal('ok');
    const p = r.profiles[0]!;
    expect(p.problems).to.deep.equal([]);
    expect(p.services[0]).to.deep.include({
      name: 'sshd',
      ready: true,
      uptimeSec: 7200,
      restarts: 2,
      listening: ['tcp:22'],
    });
    expect(p.gateways).to.deep.equal([
      { address: '10.20.30.20', family: 4, route: true, neighbour: 'REACHABLE', probe: null },
    ]);
    expect(p.overlapsWithHost).to.deep.equal(['10.20.30.1/24 ~ eth0 10.20.30.7/24']);
    expect(formatStatus(r, false))
      .to.match(/^mgmt {2}OK {2}unit enabled · supervisor pid 10$/m)
      .and.match(/service {2}sshd {2}ready {2}pid 11 {2}up 2h0m {2}restarts 2 {2}listening tcp:22/);
    const checks = doctor(healthy().raw, healthy().p, p);
    expect(checks.filter((c) => c.verdict !== 'PASS')).to.deep.equal([]);
  });

  const cases: Array<[string, (p: RawProfile) => void, 'degraded' | 'down', RegExp, string]> = [
    [
      'NIC down',
      (p) => {
        p.ns!.links[1]!.up = false;
      },
      'down',
      /ens19 is down/,
      'links up',
    ],
    [
      'no carrier',
      (p) => {
        p.ns!.links[1]!.carrier = false;
      },
      'down',
      /no carrier/,
      'links up',
    ],
    [
      'no address',
      (p) => {
        p.ns!.links[1]!.addrs = [];
      },
      'down',
      /has no address/,
      'addresses present',
    ],
    [
      'no namespace',
      (p) => {
        delete p.ns;
      },
      'down',
      /namespace mgmt does not exist/,
      'namespace exists',
    ],
    [
      'no default route',
      (p) => {
        p.ns!.routes = [];
      },
      'degraded',
      /no default route via 10\.20\.30\.20/,
      'default route',
    ],
    [
      'gateway silent',
      (p) => {
        p.ns!.neigh[0]!.state = 'FAILED';
      },
      'degraded',
      /does not answer ARP\/ND \(FAILED\)/,
      'gateway neighbour',
    ],
    [
      'no DNS file',
      (p) => {
        delete p.dnsFile;
      },
      'degraded',
      /resolv\.conf is missing/,
      'DNS file',
    ],
    [
      'no supervisor',
      (p) => {
        p.supervisorAlive = false;
      },
      'degraded',
      /no supervisor runs/,
      'services',
    ],
    [
      'service in a crash loop',
      (p) => {
        p.state!.services.sshd = {
          phase: 'backoff',
          ready: false,
          restarts: 9,
          crashLoop: { exits: 6, windowSec: 60, since: AT },
        };
      },
      'degraded',
      /sshd: crash loop/,
      'service sshd',
    ],
    [
      'a service recorded ready whose pid is gone (the supervisor could not write its state: a full /run)',
      (p) => {
        p.goneServices = ['sshd'];
      },
      'degraded',
      /sshd: pid 11 is gone and the supervisor has not recorded what followed/,
      'service sshd',
    ],
    [
      'unit not enabled',
      (p) => {
        p.unit.enabled = false;
      },
      'degraded',
      /is not enabled/,
      'unit enabled',
    ],
  ];
  for (const [what, breakIt, health, problem, check] of cases) {
    it(`${what}: ${health}, said in problems and failed by doctor's "${check}"`, () => {
      const { raw, p } = healthy();
      breakIt(p);
      const st = summarize(raw).profiles[0]!;
      expect(st.health).to.equal(health);
      expect(st.problems.join('\n')).to.match(problem);
      const failed = doctor(raw, p, st).filter((c) => c.verdict === 'FAIL');
      expect(failed.map((c) => c.check)).to.include(check);
      expect(failed.every((c) => !!c.fix)).to.equal(true);
    });
  }

  it("the worst profile sets the report's health", () => {
    const a = healthy();
    const b = healthy().p;
    b.name = 'other';
    b.ns!.links[1]!.up = false;
    a.raw.profiles.push(b);
    expect(summarize(a.raw).health).to.equal('down');
  });
});
