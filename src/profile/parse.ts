// Profile text -> Profile, or every problem, one line each. Pure: no file system, no host.
import { contains, familyOf, canonicalIp, isNetworkOrBroadcast, networkOf, parseCidr, type Cidr } from '../net/addr.js';
import { escapeControls, nearest, scanIni, shellWords, splitList, type Problem, type Section } from './lines.js';
import { checkIfName, checkMac, checkProfileName } from './names.js';
import { PRESETS, presetNames } from './presets.js';
import { DEFAULT_RUNTIME_DIR, DHCP6_SERVICE, DHCP_SERVICE } from '../state/layout.js';
import { dhcpService, dynamicAddress, type DynamicKind } from './dhcp.js';
import { dhcp6Service } from './dhcp6.js';
import type { DnsConfig, InterfaceConfig, Profile, Ready, RestartPolicy, ServiceConfig } from './types.js';
import { checkOverlaps, LINK_KEYS, parseRoutesSection, parseVeth, type VethConfig } from './links.js';
import { checkNat, NAT_KEYS, parseForwardSection, parseNatSection, type NatConfig } from './nat.js';

export class ProfileProblems {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {}
  lines(): string[] {
    const shown = this.problems.slice(0, MAX_PROBLEM_LINES).map((p) => formatProblem(this.file, p));
    const more = this.problems.length - shown.length;
    return more > 0
      ? [
          ...shown,
          `${this.file}: ${more} more problem${more > 1 ? 's' : ''}: is this a profile at all? (see profiles/mgmt.ini)`,
        ]
      : shown;
  }
}

/** A file that is no profile (a binary, a log) gives one line per line of it: show this many. */
export const MAX_PROBLEM_LINES = 10;
const MAX_LINE = 300;

/** One line, with no raw control character of the file in it, and not longer than a screen line or so. */
export function formatProblem(file: string, p: Problem): string {
  const where = [p.section ? `[${p.section}]` : '', p.key ?? ''].filter(Boolean).join(' ');
  const line = escapeControls(`${file}:${p.line}: ${where ? where + ': ' : ''}${p.message}`);
  return line.length <= MAX_LINE ? line : `${line.slice(0, MAX_LINE - 120)} … ${line.slice(-110)}`;
}

const KEYS = {
  interface: ['nic', 'address', 'gateway', 'mtu'],
  dns: ['nameserver', 'search', 'options'],
  namespace: ['keep-on-stop'],
  ...LINK_KEYS,
  ...NAT_KEYS,
  service: [
    'preset',
    'from',
    'args',
    'exec',
    'pidfile',
    'user',
    'group',
    'env',
    'ready',
    'restart',
    'restart-delay',
    'restart-delay-max',
    'stop-signal',
    'stop-timeout',
  ],
} as const;

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGKILL', 'SIGUSR1', 'SIGUSR2', 'SIGABRT'];

/** "500ms", "2s", "1m", "1.5" (seconds, as systemd reads a bare number) -> milliseconds. */
export function parseDuration(text: string): number | string {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min)?$/.exec(text.trim());
  if (!m) return `"${text}" is not a duration like 500ms, 2s or 1min`;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(unit === 'ms' ? n : unit === 'm' || unit === 'min' ? n * 60_000 : n * 1000);
}

function parseBool(text: string): boolean | string {
  const t = text.toLowerCase();
  if (['yes', 'true', 'on', '1'].includes(t)) return true;
  if (['no', 'false', 'off', '0'].includes(t)) return false;
  return `"${text}" is not yes or no`;
}

/** What presets need to know that the text does not say: where the runtime directory is. */
export interface ParseContext {
  runtimeDir?: string;
}

export function parseProfile(
  name: string,
  file: string,
  text: string,
  ctx: ParseContext = {},
): Profile | ProfileProblems {
  const problems: Problem[] = [];
  const nameErr = checkProfileName(name);
  if (nameErr) problems.push({ line: 0, message: `${nameErr}; rename the file` });
  const scanned = scanIni(text);
  if (!scanned.sections.length && !scanned.problems.length) {
    problems.push({
      line: 1,
      message: 'the profile is empty: it needs at least an [interface] section with nic = (see profiles/mgmt.ini)',
    });
    return new ProfileProblems(file, problems);
  }
  problems.push(...scanned.problems);

  let iface: InterfaceConfig | undefined;
  let dns: DnsConfig | undefined;
  let keepOnStop = false;
  const services: ServiceConfig[] = [];
  let veth: VethConfig | undefined;
  let routesSec: Section | undefined;
  let vethLine = 0;
  const vethSeen = scanned.sections.some((x) => x.name === 'veth');
  const allSections = ['interface', 'dns', 'namespace', 'veth', 'routes', 'nat', 'forward', 'service.NAME'];
  const nat: NatConfig = { masquerade: [], forwards: [] };

  for (const sec of scanned.sections) {
    const bad = (line: number, key: string | undefined, message: string) =>
      problems.push({ line, section: sec.name, ...(key ? { key } : {}), message });
    const kind = sec.name.startsWith('service.') ? 'service' : sec.name;
    if (!(kind in KEYS)) {
      const hint =
        nearest(sec.name, ['interface', 'dns', 'namespace', 'veth', 'routes', 'nat', 'forward']) ??
        (sec.name.startsWith('service') ? 'service.NAME' : undefined);
      bad(
        sec.line,
        undefined,
        `unknown section${hint ? `: did you mean [${hint}]?` : `; known sections: ${allSections.map((s) => `[${s}]`).join(', ')}`}`,
      );
      continue;
    }
    const known = KEYS[kind as keyof typeof KEYS] as readonly string[];
    for (const e of sec.entries) {
      if (!known.includes(e.key)) {
        const hint = nearest(e.key, known);
        bad(
          e.line,
          e.key,
          `unknown key${hint ? `: did you mean "${hint}"?` : `; [${kind === 'service' ? 'service.NAME' : kind}] takes ${known.join(', ')}`}`,
        );
      } else if (e.value === '') {
        bad(e.line, e.key, 'empty value: give a value or remove the line');
      }
    }
    if (kind === 'interface') iface = parseInterface(sec, bad);
    else if (kind === 'dns') dns = parseDns(sec, bad);
    else if (kind === 'veth') {
      veth = parseVeth(sec, bad);
      vethLine = sec.entries.find((e) => e.key === 'address')?.line ?? sec.line;
    } else if (kind === 'routes') routesSec = sec;
    else if (kind === 'nat') nat.masquerade = parseNatSection(sec, bad);
    else if (kind === 'forward') nat.forwards = parseForwardSection(sec, bad);
    else if (kind === 'namespace') {
      const v = get(sec, 'keep-on-stop');
      if (v) {
        const b = parseBool(v.value);
        if (typeof b === 'string') bad(v.line, 'keep-on-stop', b);
        else keepOnStop = b;
      }
    } else {
      const svc = parseService(sec, bad, { profile: name, runtimeDir: ctx.runtimeDir ?? DEFAULT_RUNTIME_DIR });
      if (svc) services.push(svc);
    }
  }
  if (veth && iface)
    checkOverlaps(veth, iface.addresses, vethLine, (line, key, message) =>
      problems.push({ line, section: 'veth', ...(key ? { key } : {}), message }),
    );
  const routes = routesSec
    ? parseRoutesSection(
        routesSec,
        veth,
        iface?.addresses ?? [],
        vethSeen,
        (line, key, message) => problems.push({ line, section: 'routes', ...(key ? { key } : {}), message }),
        scanned.sections.some((x) => x.name === 'interface'),
      )
    : { nsRoutes: [], hostRoutes: [] };
  // a [veth] with problems of its own: those lines say it; the forwards through it are not checked against it
  if ((nat.masquerade.length || nat.forwards.length) && !(vethSeen && !veth))
    checkNat(nat, veth, iface, (section, key, message) =>
      problems.push({
        line: scanned.sections.find((x) => x.name === section)?.entries.find((e) => e.key === key)?.line ?? 0,
        section,
        key,
        message,
      }),
    );
  // without a physical NIC the namespace is reached only through its veth: [interface] is optional then
  if (!iface && !vethSeen && !scanned.sections.some((s) => s.name === 'interface'))
    problems.push({
      line: 1,
      section: 'interface',
      message:
        'no [interface] and no [veth]: the namespace would have no link at all; add [interface] with nic = NAME (a NIC to move), or [veth] (a link to the host)',
    });

  for (const [on, svc, word, make] of [
    [iface?.dhcp4, DHCP_SERVICE, 'dhcp', () => dhcpService(name, ctx.runtimeDir ?? DEFAULT_RUNTIME_DIR, iface!, !!dns)],
    [iface?.dhcp6, DHCP6_SERVICE, 'dhcp6', () => dhcp6Service(name, ctx.runtimeDir ?? DEFAULT_RUNTIME_DIR, !!dns)],
  ] as const) {
    if (!on) continue;
    const clash = scanned.sections.find((x) => x.name === `service.${svc}`);
    if (clash)
      problems.push({
        line: clash.line,
        section: clash.name,
        message: `the name ${svc} is oob's own DHCP client's (address = ${word}): rename the section`,
      });
    else services.push(make());
  }
  if (problems.length || (!iface && !veth))
    return new ProfileProblems(
      file,
      problems.sort((a, b) => a.line - b.line),
    );
  const links =
    veth || routes.nsRoutes.length || routes.hostRoutes.length ? { ...(veth ? { veth } : {}), ...routes } : undefined;
  return {
    name,
    file,
    ...(iface ? { iface } : {}),
    ...(dns ? { dns } : {}),
    namespace: { keepOnStop },
    services,
    ...(links ? { links } : {}),
    ...(nat.masquerade.length || nat.forwards.length ? { nat } : {}),
  };
}

type Bad = (line: number, key: string | undefined, message: string) => void;

const get = (sec: Section, key: string) => sec.entries.find((e) => e.key === key && e.value !== '');

function parseInterface(sec: Section, bad: Bad): InterfaceConfig | undefined {
  const nicE = get(sec, 'nic');
  let nic: InterfaceConfig['nic'] | undefined;
  if (!nicE) bad(sec.line, 'nic', 'missing: name the management NIC, e.g. nic = ens19, or nic = mac:52:54:00:12:34:56');
  else if (nicE.value.toLowerCase().startsWith('mac:')) {
    const mac = nicE.value.slice(4).toLowerCase();
    const err = checkMac(mac);
    if (err) bad(nicE.line, 'nic', err);
    else nic = { kind: 'mac', mac };
  } else {
    const err = checkIfName(nicE.value);
    if (err) bad(nicE.line, 'nic', err);
    else nic = { kind: 'name', name: nicE.value };
  }

  const addresses: Cidr[] = [];
  const addrE = get(sec, 'address');
  const dynamic = new Set<DynamicKind>();
  if (addrE) {
    for (const item of splitList(addrE.value)) {
      const dyn = dynamicAddress(item, dynamic);
      if (typeof dyn === 'string') {
        dynamic.add(dyn);
        continue;
      } else if (dyn) {
        bad(addrE.line, 'address', dyn.problem);
        continue;
      }
      const c = parseCidr(item);
      if (typeof c === 'string') bad(addrE.line, 'address', `${c}; fix the address or its /prefix`);
      else if (c.prefixlen === 0) bad(addrE.line, 'address', zeroPrefix(item));
      else if (isNetworkOrBroadcast(c))
        bad(
          addrE.line,
          'address',
          `${item} is the network or broadcast address of its subnet, not a host address: use e.g. ${c.address.replace(/\.\d+$/, '.1')}/${c.prefixlen}`,
        );
      else if (addresses.some((a) => a.address === c.address)) bad(addrE.line, 'address', `${item} is listed twice`);
      else addresses.push(c);
    }
  }

  const dhcp4 = dynamic.has('dhcp');
  const gateways: string[] = [];
  const gwE = get(sec, 'gateway');
  if (gwE) {
    for (const item of splitList(gwE.value)) {
      const fam = familyOf(item);
      if (!fam) {
        bad(gwE.line, 'gateway', `"${item}" is not an IPv4 or IPv6 address (no prefix length here)`);
        continue;
      }
      const gw = canonicalIp(item);
      if (gateways.some((g) => familyOf(g) === fam)) {
        bad(gwE.line, 'gateway', `more than one IPv${fam} gateway: give at most one per family`);
        continue;
      }
      const linkLocal6 = fam === 6 && /^fe[89ab]/i.test(gw);
      // with dhcp the lease's subnet is not known here: only the own-address check applies
      const leased = fam === 4 && dhcp4 && !addresses.some((a) => contains(a, gw));
      if (addrE && !linkLocal6 && !leased) {
        if (addresses.some((a) => a.address === gw))
          bad(gwE.line, 'gateway', `${gw} is this NIC's own address: the gateway is the router's address`);
        else if (!addresses.some((a) => contains(a, gw))) {
          const same = addresses.filter((a) => a.family === fam).map((a) => `${a.address}/${a.prefixlen}`);
          bad(
            gwE.line,
            'gateway',
            `${gw} is outside every configured subnet (${same.length ? same.join(', ') : `no IPv${fam} address`}): the gateway must be reachable from inside the namespace; fix the gateway or the address prefix`,
          );
        } else if (subnetEdge(addresses, gw)) bad(gwE.line, 'gateway', subnetEdge(addresses, gw)!);
      }
      gateways.push(gw);
    }
  }

  let mtu: number | undefined;
  const mtuE = get(sec, 'mtu');
  if (mtuE) {
    const n = Number(mtuE.value);
    if (!/^\d+$/.test(mtuE.value) || n < 68 || n > 65535)
      bad(mtuE.line, 'mtu', `"${mtuE.value}" is not an MTU between 68 and 65535`);
    else if (n < 1280 && (addresses.some((a) => a.family === 6) || dynamic.has('dhcp6') || dynamic.has('auto')))
      bad(mtuE.line, 'mtu', `${n} is below 1280, the minimum for IPv6: raise it or drop the IPv6 address`);
    else mtu = n;
  }
  if (!nic) return undefined;
  return {
    nic,
    addresses,
    gateways,
    ...(mtu !== undefined ? { mtu } : {}),
    ...(dhcp4 ? { dhcp4 } : {}),
    ...(dynamic.has('dhcp6') ? { dhcp6: true } : {}),
    ...(dynamic.has('auto') ? { slaac: true } : {}),
  };
}

function parseDns(sec: Section, bad: Bad): DnsConfig {
  const nameservers: string[] = [];
  const ns = get(sec, 'nameserver');
  if (ns) {
    for (const item of splitList(ns.value)) {
      if (!familyOf(item)) bad(ns.line, 'nameserver', `"${item}" is not an IPv4 or IPv6 address`);
      else nameservers.push(canonicalIp(item));
    }
    if (nameservers.length > 3)
      bad(ns.line, 'nameserver', `${nameservers.length} name servers given; the resolver uses at most 3: keep 3`);
  }
  const search: string[] = [];
  const s = get(sec, 'search');
  if (s) {
    for (const item of splitList(s.value)) {
      if (!/^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)+$/.test(item))
        bad(s.line, 'search', `"${item}" is not a domain name`);
      else search.push(item);
    }
  }
  const o = get(sec, 'options');
  const options = o ? splitList(o.value) : [];
  if (!ns && !s)
    bad(sec.line, 'nameserver', '[dns] needs nameserver = (or search =); remove the section to leave DNS alone');
  return { nameservers, search, options };
}

function parseService(sec: Section, bad: Bad, ctx: { profile: string; runtimeDir: string }): ServiceConfig | undefined {
  const name = sec.name.slice('service.'.length);
  let ok = true;
  const fail: Bad = (l, k, m) => {
    ok = false;
    bad(l, k, m);
  };
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(name))
    fail(sec.line, undefined, `"${name}" is not a valid service name: letters, digits, "_", "." and "-", at most 32`);
  const origin = parseOrigin(sec, fail);

  let exec: string[] = [];
  const ex = get(sec, 'exec');
  if (!ex && !get(sec, 'preset') && !get(sec, 'from'))
    fail(
      sec.line,
      'exec',
      'missing: the command line to run (e.g. exec = /usr/bin/prometheus-node-exporter), or preset = NAME (oob presets lists them), or from = UNIT.service',
    );
  else if (ex) {
    const w = shellWords(ex.value);
    if (typeof w === 'string') fail(ex.line, 'exec', w);
    else exec = w;
  }
  const pf = get(sec, 'pidfile');
  if (pf && !pf.value.startsWith('/')) fail(pf.line, 'pidfile', `"${pf.value}" is not an absolute path`);
  let prestart: string[][] = [];
  let presetReady: Ready | undefined;
  let presetPidfile: string | undefined;
  let prestartBeforeUp = false;
  if (origin.preset) {
    const v = origin.preset.expand(
      { profile: ctx.profile, service: name, runtimeDir: ctx.runtimeDir },
      { ...(ex ? { exec } : {}), ...(pf ? { pidfile: pf.value } : {}), args: origin.args },
    );
    exec = v.exec;
    prestart = v.prestart;
    presetReady = v.ready;
    presetPidfile = v.pidfile;
    prestartBeforeUp = !!v.prestartBeforeUp;
  } else if (origin.from && ex) exec = [...exec, ...origin.args];
  const user = get(sec, 'user')?.value;
  const group = get(sec, 'group')?.value;
  for (const k of ['user', 'group'] as const) {
    const e = get(sec, k);
    if (e && !/^([a-z_][a-z0-9_-]*\$?|\d+)$/i.test(e.value))
      fail(e.line, k, `"${e.value}" is not a ${k} name or number`);
  }

  const env: Record<string, string> = {};
  const envE = get(sec, 'env');
  if (envE) {
    const w = shellWords(envE.value);
    if (typeof w === 'string') fail(envE.line, 'env', w);
    else
      for (const item of w) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(item);
        if (!m) fail(envE.line, 'env', `"${item}" is not NAME=VALUE`);
        else env[m[1]!] = m[2]!;
      }
  }

  let ready: Ready = presetReady ?? (pf ? { kind: 'pidfile' } : { kind: 'none' });
  const r = get(sec, 'ready');
  if (r) {
    const m = /^tcp:(\d+)$/.exec(r.value);
    if (m && Number(m[1]) >= 1 && Number(m[1]) <= 65535) ready = { kind: 'tcp', port: Number(m[1]) };
    else if (r.value === 'pidfile') {
      if (!pf && !presetPidfile && !origin.from)
        fail(r.line, 'ready', 'ready = pidfile needs pidfile = PATH in the same section');
      ready = { kind: 'pidfile' };
    } else if (r.value === 'none') ready = { kind: 'none' };
    else fail(r.line, 'ready', `"${r.value}" is not tcp:PORT (1-65535), pidfile or none`);
  }

  let restart: RestartPolicy = 'always';
  const rs = get(sec, 'restart');
  if (rs) {
    if (rs.value === 'always' || rs.value === 'on-failure' || rs.value === 'no') restart = rs.value;
    else fail(rs.line, 'restart', `"${rs.value}" is not always, on-failure or no`);
  }
  const dur = (key: string, dflt: number): number => {
    const e = get(sec, key);
    if (!e) return dflt;
    const d = parseDuration(e.value);
    if (typeof d === 'string') {
      fail(e.line, key, d);
      return dflt;
    }
    return d;
  };
  const restartDelayMs = dur('restart-delay', 500);
  const restartDelayMaxMs = dur('restart-delay-max', 30_000);
  const stopTimeoutMs = dur('stop-timeout', 10_000);
  const rdm = get(sec, 'restart-delay-max');
  if (rdm && restartDelayMaxMs < restartDelayMs)
    fail(rdm.line, 'restart-delay-max', `shorter than restart-delay (${restartDelayMs} ms)`);

  let stopSignal = 'SIGTERM';
  const ss = get(sec, 'stop-signal');
  if (ss) {
    const v = ss.value.toUpperCase();
    const full = v.startsWith('SIG') ? v : 'SIG' + v;
    if (!SIGNALS.includes(full)) fail(ss.line, 'stop-signal', `"${ss.value}" is not one of ${SIGNALS.join(', ')}`);
    else stopSignal = full;
  }
  if (!ok) return undefined;
  const pidfile = pf?.value ?? presetPidfile;
  return {
    name,
    exec,
    env,
    ready,
    restart,
    restartDelayMs,
    restartDelayMaxMs,
    stopSignal,
    stopTimeoutMs,
    prestart,
    ...(prestartBeforeUp ? { prestartBeforeUp } : {}),
    ...(pidfile ? { pidfile } : {}),
    ...(user ? { user } : {}),
    ...(group ? { group } : {}),
    ...(origin.preset ? { preset: origin.preset.name } : {}),
    ...(origin.from
      ? {
          from: {
            unit: origin.from,
            line: get(sec, 'from')!.line,
            written: sec.entries.map((e) => e.key),
            args: origin.args,
          },
        }
      : {}),
  };
}

/** A /0 address claims every address as on-link (ARP for the whole Internet): never what is meant. */
const zeroPrefix = (item: string) =>
  `${item}: a /0 prefix makes every address on-link: give the subnet's real prefix, e.g. ${item.replace(/\/0$/, item.includes(':') ? '/64' : '/24')}`;

/** The gateway is the network or the broadcast address of the NIC's subnet: no router answers there. */
function subnetEdge(addresses: Cidr[], gw: string): string | undefined {
  const a = addresses.find((x) => contains(x, gw) && isNetworkOrBroadcast({ ...x, address: gw }));
  if (!a) return undefined;
  const net = networkOf(a).split('/')[0];
  return `${gw} is the ${gw === net ? 'network' : 'broadcast'} address of ${networkOf(a)}, not a router's: give the router's own address`;
}

/** preset =, from = and args =: where a section's defaults come from. */
function parseOrigin(sec: Section, fail: Bad) {
  const out: { preset?: (typeof PRESETS)[string]; from?: string; args: string[] } = { args: [] };
  const p = get(sec, 'preset');
  const f = get(sec, 'from');
  const a = get(sec, 'args');
  if (p) {
    const preset = Object.hasOwn(PRESETS, p.value) ? PRESETS[p.value] : undefined;
    const hint = nearest(p.value, presetNames());
    if (!preset)
      fail(
        p.line,
        'preset',
        `unknown preset "${p.value}"${hint ? ` (did you mean "${hint}"?)` : ''}: the presets are ${presetNames().join(', ')} (see oob presets); or copy an installed unit with from = UNIT.service`,
      );
    else out.preset = preset;
  }
  if (f) {
    if (p) fail(f.line, 'from', 'give preset = or from =, not both');
    else if (f.value.includes('@'))
      fail(
        f.line,
        'from',
        `"${f.value}" is a template or instance unit: from = copies plain services only (NAME.service)`,
      );
    else if (!/^[A-Za-z0-9:_.-]+\.service$/.test(f.value))
      fail(f.line, 'from', `"${f.value}" is not a systemd service name like snmpd.service`);
    else out.from = f.value;
  }
  if (a) {
    const w = shellWords(a.value);
    if (typeof w === 'string') fail(a.line, 'args', w);
    else if (!p && !f)
      fail(
        a.line,
        'args',
        "args = adds arguments to a preset's or a copied unit's command line: without preset = or from =, write them into exec =",
      );
    else out.args = w;
  }
  return out;
}
