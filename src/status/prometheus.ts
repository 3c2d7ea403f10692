// The status report as Prometheus' text exposition format (`oob status --format prometheus`, and the
// supervisor's file for node_exporter's textfile collector). Pure.
//
// Names and units follow https://prometheus.io/docs/practices/naming/: the prefix oob_, base units
// (seconds, bytes), Unix times as *_time_seconds / *_timestamp_seconds, counters end in _total,
// enumerations are state sets (one series per state, 1 for the current one). Every series carries
// the label `profile`, so the files of several profiles never collide in the textfile collector
// (it refuses a series two files both hold), and every HELP text is a constant (it also refuses a
// family whose HELP differs between files). A family with no sample is left out whole: a field a
// report does not have (a pending confirmation, a DHCP lease) emits nothing.
import type { Health, ProfileStatus, StatusReport } from './model.js';

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
}
interface Family {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  samples: (p: ProfileStatus, at: number) => Sample[];
}

const HEALTH: Health[] = ['ok', 'degraded', 'down'];
/** The kernel's neighbour states (ip-neighbour(8)), and "none": no entry at all. */
export const NEIGHBOUR_STATES = [
  'none',
  'incomplete',
  'reachable',
  'stale',
  'delay',
  'probe',
  'failed',
  'noarp',
  'permanent',
];

const bit = (b: boolean) => (b ? 1 : 0);
const one = (value: number, labels: Labels = {}): Sample[] => [{ labels, value }];
/** Seconds since the epoch of an ISO time; undefined when there is none or it does not parse. */
const seconds = (iso: string | null | undefined): number | undefined => {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) ? ms / 1000 : undefined;
};
const when = (s: number | undefined, labels: Labels = {}): Sample[] => (s === undefined ? [] : one(s, labels));

const FAMILIES: Family[] = [
  {
    name: 'oob_up',
    type: 'gauge',
    help: 'Whether the way in works: 1 when the health is ok or degraded, 0 when it is down.',
    samples: (p) => one(bit(p.health !== 'down')),
  },
  {
    name: 'oob_health',
    type: 'gauge',
    help: 'The health of the profile as oob status computes it: 1 for the current state, 0 for the others.',
    samples: (p) => HEALTH.map((h) => ({ labels: { state: h }, value: bit(p.health === h) })),
  },
  {
    name: 'oob_problems',
    type: 'gauge',
    help: 'Number of problems oob status lists for the profile (oob status NAME says which).',
    samples: (p) => one(p.problems.length),
  },
  {
    name: 'oob_profile_valid',
    type: 'gauge',
    help: 'Whether the profile file is valid (oob check NAME says why not).',
    samples: (p) => one(bit(p.profile.valid)),
  },
  {
    name: 'oob_unit_enabled',
    type: 'gauge',
    help: 'Whether the systemd unit oob@NAME.service is enabled (only where systemd runs).',
    samples: (p) => (p.unit.enabled === null ? [] : one(bit(p.unit.enabled))),
  },
  {
    name: 'oob_supervisor_up',
    type: 'gauge',
    help: 'Whether a supervisor (oob run) keeps the services of the profile.',
    samples: (p) => one(bit(p.supervisor.running)),
  },
  {
    name: 'oob_supervisor_start_time_seconds',
    type: 'gauge',
    help: 'Start time of the running supervisor since the Unix epoch in seconds.',
    samples: (p) => (p.supervisor.running ? when(seconds(p.supervisor.since)) : []),
  },
  {
    name: 'oob_namespace_exists',
    type: 'gauge',
    help: 'Whether the network namespace of the profile exists.',
    samples: (p) => one(bit(p.namespace.exists)),
  },
  {
    name: 'oob_nic_info',
    type: 'gauge',
    help: 'The NIC in the namespace of the profile: its name and MAC address as labels, value 1.',
    samples: (p) => (p.nic.inNamespace ? one(1, { nic: p.nic.name ?? '', mac: p.nic.mac ?? '' }) : []),
  },
  {
    name: 'oob_nic_in_namespace',
    type: 'gauge',
    help: 'Whether the NIC of the profile is in its namespace.',
    samples: (p) => one(bit(p.nic.inNamespace)),
  },
  {
    name: 'oob_nic_up',
    type: 'gauge',
    help: 'Whether the NIC in the namespace is administratively up.',
    samples: (p) => one(bit(p.nic.up)),
  },
  {
    name: 'oob_nic_carrier',
    type: 'gauge',
    help: 'Whether the NIC in the namespace has a carrier (cable, switch port, peer).',
    samples: (p) => one(bit(p.nic.carrier)),
  },
  {
    name: 'oob_nic_mtu_bytes',
    type: 'gauge',
    help: 'MTU of the NIC in the namespace in bytes.',
    samples: (p) => (p.nic.mtu === null ? [] : one(p.nic.mtu)),
  },
  {
    name: 'oob_addresses',
    type: 'gauge',
    help: 'Number of global addresses on the NIC in the namespace.',
    samples: (p) => one(p.addresses.length),
  },
  {
    name: 'oob_addresses_missing',
    type: 'gauge',
    help: 'Number of addresses the profile names that the NIC does not have.',
    samples: (p) => one(p.missingAddresses.length),
  },
  {
    name: 'oob_gateway_route',
    type: 'gauge',
    help: 'Whether the default route via the gateway is in place in the namespace.',
    samples: (p) => p.gateways.map((g) => ({ labels: { gateway: g.address }, value: bit(g.route) })),
  },
  {
    name: 'oob_gateway_neighbour_state',
    type: 'gauge',
    help: 'The neighbour (ARP/ND) state of the gateway in the namespace: 1 for the current state ("none": no entry), 0 for the others.',
    samples: (p) =>
      p.gateways.flatMap((g) => {
        const now = (g.neighbour ?? 'none').toLowerCase();
        const states = NEIGHBOUR_STATES.includes(now) ? NEIGHBOUR_STATES : [...NEIGHBOUR_STATES, now];
        return states.map((s) => ({ labels: { gateway: g.address, state: s }, value: bit(s === now) }));
      }),
  },
  {
    name: 'oob_gateway_probe_answered',
    type: 'gauge',
    help: 'Whether the gateway answered the ARP/ND probe of oob status --probe (only with --probe, not for static entries).',
    samples: (p) =>
      p.gateways.flatMap((g) =>
        g.probe === 'answered' || g.probe === 'unanswered'
          ? one(bit(g.probe === 'answered'), { gateway: g.address })
          : [],
      ),
  },
  {
    name: 'oob_dns_file_present',
    type: 'gauge',
    help: 'Whether the resolv.conf of the namespace is in place (only when the profile has a [dns] section).',
    samples: (p) => (p.dns.expected ? one(bit(p.dns.present)) : []),
  },
  {
    name: 'oob_service_up',
    type: 'gauge',
    help: 'Whether the service copy runs (it has a process).',
    samples: (p) => p.services.map((s) => ({ labels: { service: s.name }, value: bit(s.pid !== null) })),
  },
  {
    name: 'oob_service_ready',
    type: 'gauge',
    help: 'Whether the service copy is ready (its ready = check passed).',
    samples: (p) => p.services.map((s) => ({ labels: { service: s.name }, value: bit(s.ready) })),
  },
  {
    name: 'oob_service_crash_loop',
    type: 'gauge',
    help: 'Whether the service copy is in a crash loop (it keeps exiting; the supervisor backs off).',
    samples: (p) => p.services.map((s) => ({ labels: { service: s.name }, value: bit(s.crashLoop) })),
  },
  {
    name: 'oob_service_restarts_total',
    type: 'counter',
    help: 'Number of times the supervisor restarted the service copy.',
    samples: (p) => p.services.map((s) => ({ labels: { service: s.name }, value: s.restarts })),
  },
  {
    name: 'oob_service_start_time_seconds',
    type: 'gauge',
    help: 'Start time of the running service copy since the Unix epoch in seconds.',
    samples: (p, at) =>
      p.services.flatMap((s) => (s.uptimeSec === null ? [] : one(at - s.uptimeSec, { service: s.name }))),
  },
  {
    name: 'oob_confirmation_pending',
    type: 'gauge',
    help: 'Whether a change made with --confirm waits for oob confirm (it is reverted at the deadline otherwise).',
    samples: (p) => {
      const c = (p as Partial<ProfileStatus>).pending;
      return c === undefined ? [] : one(bit(c !== null));
    },
  },
  {
    name: 'oob_confirmation_deadline_timestamp_seconds',
    type: 'gauge',
    help: 'When the pending change is reverted unless confirmed, since the Unix epoch in seconds.',
    samples: (p) => when(seconds(p.pending?.deadline)),
  },
  {
    name: 'oob_dhcp_lease_expiry_timestamp_seconds',
    type: 'gauge',
    help: 'When the DHCP lease of the NIC expires, since the Unix epoch in seconds.',
    samples: (p) => when(seconds(p.dhcp?.expires)),
  },
];

/** \ and newline in a HELP text; \, " and newline in a label value (the exposition format's escapes). */
const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
/** Integers as integers; other values in the shortest form that reads back the same. */
const value = (v: number) => (Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf');

export interface PrometheusOptions {
  /** oob's version: oob_build_info{version} (left out without one). */
  version?: string;
}

/** The report as text exposition format: each family once, HELP and TYPE first, then its samples; ends in a newline. */
export function formatPrometheus(r: StatusReport, opts: PrometheusOptions = {}): string {
  const at = Date.parse(r.generatedAt) / 1000;
  const families: Family[] = [
    ...(opts.version !== undefined
      ? [
          {
            name: 'oob_build_info',
            type: 'gauge' as const,
            help: 'The version of oob that wrote these metrics, as a label; value 1.',
            samples: () => one(1, { version: opts.version! }),
          },
        ]
      : []),
    ...FAMILIES,
  ];
  const out: string[] = [];
  for (const f of families) {
    const lines = r.profiles.flatMap((p) =>
      f.samples(p, at).map((s) => {
        const labels = Object.entries({ profile: p.name, ...s.labels })
          .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
          .join(',');
        return `${f.name}{${labels}} ${value(s.value)}`;
      }),
    );
    if (!lines.length) continue;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`, ...lines);
  }
  return out.length ? out.join('\n') + '\n' : '';
}
