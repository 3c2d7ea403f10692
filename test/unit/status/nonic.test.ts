// status, doctor and the unit files of a profile without a NIC: no NIC is missing; the profile is
// up when its namespace, its veth and their addresses are in place; the links are in --json.
import { expect } from 'chai';
import type { Raw, RawProfile } from '../../../src/status/collect.js';
import { doctor } from '../../../src/status/doctor.js';
import { summarize } from '../../../src/status/model.js';
import { statusSchema } from '../../../src/status/schema.js';
import { unitFiles } from '../../../src/systemd/render.js';
import { validate } from '../../helpers/schema.js';
import { link, profile, route, v4 } from '../helpers.js';

const BLUE = profile(
  `[veth]\nname = veth-blue\nhost-name = veth-blue-br\naddress = 192.168.15.2/24\nbridge = v-net-0\nbridge-address = 192.168.15.5/24\n[routes]\nnamespace = default via 192.168.15.5\n`,
  'blue',
);

function seen(): Raw {
  const p: RawProfile = {
    name: 'blue',
    file: '/p/blue.ini',
    logFile: '/run/oob/blue/supervisor.log',
    profile: BLUE,
    ns: {
      links: [link('lo', { ifindex: 1 }), link('veth-blue', { ifindex: 2, addrs: [v4('192.168.15.2')] })],
      routes: [route('default', 'veth-blue', { gateway: '192.168.15.5', protocol: '79' })],
      neigh: [],
    },
    supervisorAlive: false,
    goneServices: [],
    unit: { systemd: true, enabled: true },
    managers: { networkManager: true, nmRule: false, networkd: true, networkdRule: false },
    sockets: {},
  };
  return {
    at: '2026-11-22T12:00:00.000Z',
    host: {
      links: [
        link('eth0', { ifindex: 2, addrs: [v4('192.168.1.2')] }),
        link('v-net-0', { ifindex: 10, alias: 'oob-bridge:v-net-0', addrs: [v4('192.168.15.5')] }),
        link('veth-blue-br', { ifindex: 12, alias: 'oob-veth:blue', master: 'v-net-0' }),
      ],
      routes: [],
    },
    profiles: [p],
  };
}

describe('status: a profile without a NIC', () => {
  it('namespace, veth and addresses in place: ok, no NIC asked for, the links in the report, valid JSON', () => {
    const r = summarize(seen());
    const st = r.profiles[0]!;
    expect(st.health, st.problems.join('; ')).to.equal('ok');
    expect(st.problems).to.deep.equal([]);
    expect(st.nic).to.deep.include({ name: null, inNamespace: false, leftInHost: false });
    expect(st.addresses).to.deep.equal(['192.168.15.2/24']);
    expect(st.overlapsWithHost, 'its own bridge is no overlap').to.deep.equal([]);
    expect(st.links).to.deep.equal({
      veth: {
        name: 'veth-blue',
        hostName: 'veth-blue-br',
        inHost: true,
        inNamespace: true,
        up: true,
        addresses: ['192.168.15.2/24'],
        missingAddresses: [],
        hostAddresses: [],
      },
      bridge: {
        name: 'v-net-0',
        exists: true,
        ours: true,
        up: true,
        port: true,
        addresses: ['192.168.15.5/24'],
        missingAddresses: [],
      },
      routes: [{ where: 'namespace', dst: 'default', via: '192.168.15.5', present: true }],
    });
    expect(validate(statusSchema as never, JSON.parse(JSON.stringify(r)))).to.deep.equal([]);
  });

  it('the veth gone or down is "down" (it is the only way in); a missing route is "degraded"', () => {
    const gone = seen();
    gone.host.links = gone.host.links.filter((l) => l.ifname !== 'veth-blue-br');
    gone.profiles[0]!.ns!.links = gone.profiles[0]!.ns!.links.filter((l) => l.ifname !== 'veth-blue');
    const g = summarize(gone).profiles[0]!;
    expect(g.health).to.equal('down');
    expect(g.problems[0]).to.equal('the veth veth-blue-br - veth-blue is missing (oob up blue)');
    const down = seen();
    down.profiles[0]!.ns!.links[1]!.up = false;
    expect(summarize(down).profiles[0]!.health).to.equal('down');
    const noRoute = seen();
    noRoute.profiles[0]!.ns!.routes = [];
    const n = summarize(noRoute).profiles[0]!;
    expect(n.health).to.equal('degraded');
    expect(n.problems).to.deep.equal(['route missing: default via 192.168.15.5 (namespace)']);
  });

  it('doctor: no NIC checks, no network-manager checks; the veth and bridge checks pass', () => {
    const raw = seen();
    const st = summarize(raw).profiles[0]!;
    const checks = doctor(raw, raw.profiles[0]!, st);
    const names = checks.map((c) => c.check);
    expect(names).not.to.include.members(['NIC in the namespace', 'addresses present', 'default route']);
    expect(names).not.to.include.members(['NetworkManager', 'systemd-networkd']);
    expect(names).to.include.members(['veth created', 'veth end in the namespace', 'bridge up', 'routing configured']);
    expect(checks.filter((c) => c.verdict === 'FAIL')).to.deep.equal([]);
  });

  it('enable: no device to wait for, no rule that keeps the network managers off a NIC', () => {
    const files = unitFiles(BLUE, undefined, {
      exec: '/usr/bin/oob',
      profileDir: '/etc/oob/profiles',
      force: false,
      networkManager: true,
      networkd: true,
    });
    expect(files.map((f) => f.path)).to.deep.equal(['/etc/systemd/system/oob@blue.service.d/10-oob.conf']);
    expect(files[0]!.content).not.to.match(/\.device|After=|Wants=/);
  });
});
