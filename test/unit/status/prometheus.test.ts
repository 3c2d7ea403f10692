import { expect } from 'chai';
import type { ProfileStatus, StatusReport } from '../../../src/status/model.js';
import { formatPrometheus, NEIGHBOUR_STATES } from '../../../src/status/prometheus.js';
import { parseExposition, valueOf } from '../../helpers/exposition.js';

const AT = '2026-11-22T12:00:00.000Z';
const AT_S = Date.parse(AT) / 1000;

function healthy(name = 'mgmt'): ProfileStatus {
  return {
    name,
    health: 'ok',
    problems: [],
    profile: { file: `/etc/oob/profiles/${name}.ini`, valid: true, error: null },
    unit: { systemd: true, enabled: true },
    supervisor: { running: true, pid: 10, since: '2026-11-22T11:00:00.000Z' },
    namespace: { exists: true },
    nic: {
      name: 'ens19',
      mac: '52:54:00:12:34:56',
      inNamespace: true,
      leftInHost: false,
      up: true,
      carrier: true,
      mtu: 1500,
    },
    addresses: ['10.20.30.1/24'],
    missingAddresses: [],
    gateways: [{ address: '10.20.30.20', family: 4, route: true, neighbour: 'REACHABLE', probe: null }],
    dns: { expected: true, present: true },
    pending: null,
    dhcp: null,
    nat: [],
    forwards: [],
    ipForward: { host: null, namespace: null },
    dhcp6: null,
    slaac: null,
    services: [
      {
        name: 'sshd',
        phase: 'running',
        pid: 11,
        uptimeSec: 3600,
        restarts: 2,
        ready: true,
        listening: ['tcp:22'],
        crashLoop: false,
        lastExit: null,
      },
    ],
    overlapsWithHost: [],
    links: { veth: null, bridge: null, routes: [] },
  };
}

const report = (...profiles: ProfileStatus[]): StatusReport => ({
  version: 1,
  generatedAt: AT,
  health: profiles.some((p) => p.health === 'down') ? 'down' : 'ok',
  profiles,
});

/** A profile whose namespace is gone: no NIC, no supervisor, the service not running. */
function down(name = 'mgmt'): ProfileStatus {
  const p = healthy(name);
  return {
    ...p,
    health: 'down',
    problems: [`namespace ${name} does not exist`, 'no supervisor runs'],
    unit: { systemd: false, enabled: null },
    supervisor: { running: false, pid: null, since: null },
    namespace: { exists: false },
    nic: { name: null, mac: null, inNamespace: false, leftInHost: true, up: false, carrier: false, mtu: null },
    addresses: [],
    missingAddresses: ['10.20.30.1/24'],
    gateways: [{ address: '10.20.30.20', family: 4, route: false, neighbour: null, probe: null }],
    dns: { expected: false, present: false },
    services: [{ ...p.services[0]!, phase: 'not running', pid: null, uptimeSec: null, restarts: 0, ready: false }],
  };
}

describe('status/prometheus: the status as text exposition format', () => {
  it('a healthy profile: every series with its value, by the format and the naming rules', () => {
    const text = formatPrometheus(report(healthy()), { version: '0.1.0' });
    const fams = parseExposition(text);
    const v = (name: string, labels: Record<string, string> = {}) =>
      valueOf(fams, name, { profile: 'mgmt', ...labels });
    expect(v('oob_build_info', { version: '0.1.0' })).to.equal(1);
    expect(v('oob_up')).to.equal(1);
    expect([
      v('oob_health', { state: 'ok' }),
      v('oob_health', { state: 'degraded' }),
      v('oob_health', { state: 'down' }),
    ]).to.deep.equal([1, 0, 0]);
    expect(v('oob_problems')).to.equal(0);
    expect(v('oob_unit_enabled')).to.equal(1);
    expect(v('oob_supervisor_up')).to.equal(1);
    expect(v('oob_supervisor_start_time_seconds')).to.equal(AT_S - 3600);
    expect(v('oob_nic_info', { nic: 'ens19', mac: '52:54:00:12:34:56' })).to.equal(1);
    expect([v('oob_nic_in_namespace'), v('oob_nic_up'), v('oob_nic_carrier'), v('oob_nic_mtu_bytes')]).to.deep.equal([
      1, 1, 1, 1500,
    ]);
    expect([v('oob_addresses'), v('oob_addresses_missing')]).to.deep.equal([1, 0]);
    expect(v('oob_gateway_route', { gateway: '10.20.30.20' })).to.equal(1);
    const neigh = fams.find((f) => f.name === 'oob_gateway_neighbour_state')!.series;
    expect(neigh.map((s) => s.labels.state)).to.deep.equal(NEIGHBOUR_STATES);
    expect(neigh.filter((s) => s.value === 1).map((s) => s.labels.state)).to.deep.equal(['reachable']);
    expect(v('oob_dns_file_present')).to.equal(1);
    const svc = { service: 'sshd' };
    expect([v('oob_service_up', svc), v('oob_service_ready', svc), v('oob_service_crash_loop', svc)]).to.deep.equal([
      1, 1, 0,
    ]);
    expect(v('oob_service_restarts_total', svc)).to.equal(2);
    expect(v('oob_service_start_time_seconds', svc)).to.equal(AT_S - 3600);
    expect(fams.find((f) => f.name === 'oob_service_restarts_total')!.type).to.equal('counter');
    expect(fams.filter((f) => f.name !== 'oob_service_restarts_total').map((f) => f.type)).to.satisfy((t: string[]) =>
      t.every((x) => x === 'gauge'),
    );
    expect(fams.every((f) => f.help && f.series.every((s) => s.labels.profile === 'mgmt'))).to.equal(true);
  });

  it('what a report does not have emits nothing: no NIC, no supervisor, no systemd, no probe, no confirmation, no lease', () => {
    const fams = parseExposition(formatPrometheus(report(down())));
    const names = fams.map((f) => f.name);
    for (const absent of [
      'oob_build_info',
      'oob_unit_enabled',
      'oob_supervisor_start_time_seconds',
      'oob_nic_info',
      'oob_nic_mtu_bytes',
      'oob_gateway_probe_answered',
      'oob_dns_file_present',
      'oob_service_start_time_seconds',
      'oob_confirmation_deadline_timestamp_seconds',
      'oob_dhcp_lease_expiry_timestamp_seconds',
    ])
      expect(names, absent).not.to.include(absent);
    expect(valueOf(fams, 'oob_confirmation_pending'), 'nothing pending: 0').to.equal(0);
    expect(valueOf(fams, 'oob_up')).to.equal(0);
    expect(valueOf(fams, 'oob_health', { state: 'down' })).to.equal(1);
    expect(valueOf(fams, 'oob_problems')).to.equal(2);
    expect(valueOf(fams, 'oob_addresses_missing')).to.equal(1);
    expect(valueOf(fams, 'oob_service_up')).to.equal(0);
    expect(valueOf(fams, 'oob_gateway_neighbour_state', { state: 'none' })).to.equal(1);
  });

  it('a pending confirmation and a DHCP lease, when the report has them', () => {
    const p = {
      ...healthy(),
      pending: {
        what: 'up',
        state: 'waiting',
        since: '2026-11-22T12:00:00.000Z',
        deadline: '2026-11-22T12:02:00.000Z',
        revert: 'down',
        workerAlive: true,
      },
      dhcp: {
        address: '10.20.30.100/24',
        server: '10.20.30.20',
        obtained: '2026-11-22T12:00:00.000Z',
        expires: '2026-11-22T13:00:00.000Z',
        valid: true,
      },
    };
    const fams = parseExposition(formatPrometheus(report(p)));
    expect(valueOf(fams, 'oob_confirmation_pending')).to.equal(1);
    expect(valueOf(fams, 'oob_confirmation_deadline_timestamp_seconds')).to.equal(AT_S + 120);
    expect(valueOf(fams, 'oob_dhcp_lease_expiry_timestamp_seconds')).to.equal(AT_S + 3600);
    const none = parseExposition(formatPrometheus(report({ ...healthy(), pending: null })));
    expect(valueOf(none, 'oob_confirmation_pending')).to.equal(0);
    expect(none.map((f) => f.name)).not.to.include('oob_confirmation_deadline_timestamp_seconds');
  });

  it('the probe: answered 1, unanswered 0, a static entry not at all; an unknown neighbour state joins the set', () => {
    const p = healthy();
    p.gateways = [
      { address: '10.20.30.20', family: 4, route: true, neighbour: 'FAILED', probe: 'unanswered' },
      { address: 'fe80::1', family: 6, route: true, neighbour: 'PERMANENT', probe: 'static' },
      { address: '2001:db8::1', family: 6, route: false, neighbour: 'WEIRD', probe: 'answered' },
    ];
    const fams = parseExposition(formatPrometheus(report(p)));
    expect(valueOf(fams, 'oob_gateway_probe_answered', { gateway: '10.20.30.20' })).to.equal(0);
    expect(valueOf(fams, 'oob_gateway_probe_answered', { gateway: '2001:db8::1' })).to.equal(1);
    expect(valueOf(fams, 'oob_gateway_probe_answered', { gateway: 'fe80::1' })).to.equal(undefined);
    expect(valueOf(fams, 'oob_gateway_neighbour_state', { gateway: '10.20.30.20', state: 'failed' })).to.equal(1);
    expect(valueOf(fams, 'oob_gateway_neighbour_state', { gateway: 'fe80::1', state: 'permanent' })).to.equal(1);
    expect(valueOf(fams, 'oob_gateway_neighbour_state', { gateway: '2001:db8::1', state: 'weird' })).to.equal(1);
    expect(valueOf(fams, 'oob_gateway_neighbour_state', { gateway: '2001:db8::1', state: 'reachable' })).to.equal(0);
  });

  it('several profiles: each family once, its samples together, no series twice, HELP the same whatever the state', () => {
    const text = formatPrometheus(report(healthy('a'), down('b'), healthy('c')));
    const fams = parseExposition(text);
    expect(valueOf(fams, 'oob_up', { profile: 'a' })).to.equal(1);
    expect(valueOf(fams, 'oob_up', { profile: 'b' })).to.equal(0);
    const helps = (t: string) => t.split('\n').filter((l) => l.startsWith('# '));
    // the textfile collector refuses a family whose HELP or TYPE differs between two files
    const oneFile = helps(formatPrometheus(report(healthy('x'))));
    expect(oneFile.every((l) => helps(text).includes(l))).to.equal(true);
  });

  it('label values and HELP are escaped by the format rules', () => {
    const p = healthy();
    p.nic.name = 'we"ird\\nic\nx';
    const text = formatPrometheus(report(p));
    expect(text).to.include('nic="we\\"ird\\\\nic\\nx"');
    expect(valueOf(parseExposition(text), 'oob_nic_info', { nic: 'we"ird\\nic\nx' })).to.equal(1);
  });

  it('an empty report is empty text; otherwise the text ends in one newline', () => {
    expect(formatPrometheus(report())).to.equal('');
    expect(formatPrometheus(report(healthy()))).to.match(/[^\n]\n$/);
  });

  it('the strict reader refuses what promtool refuses (so that the tests above can fail)', () => {
    const bad = [
      'a{p="x} 1\n',
      '# TYPE a gauge\na 1\n# TYPE a gauge\n',
      'a 1\nb 1\na 2\n',
      'a{p="x"} 1\na{p="x"} 2\n',
      '# TYPE a counter\na 1\n',
      '# TYPE a_total gauge\na_total 1\n',
      'a 1 1700000000000\n',
      'a 1',
      'a{p="\\t"} 1\n',
      'a one\n',
    ];
    for (const t of bad) expect(() => parseExposition(t), JSON.stringify(t)).to.throw();
  });
});
