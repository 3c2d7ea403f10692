// The demo's links part (issue 12): the host reaches the management LAN through the namespace, and
// the management LAN reaches a host-only service through a port forward, without the NIC ever
// coming back into the host's routing table. The profile grows a [veth] to the host, a host route
// to the LAN's servers through it, and [nat]/[forward] in the namespace; `oob up` adds just that.
import { stepCommand } from '../engine/apply.js';
import { planProfileUp, upProfile } from '../engine/ops.js';
import { OobError } from '../errors.js';
import { loadProfile } from '../profile/load.js';
import { profileFile } from '../state/layout.js';
import type { Io } from '../sys/io.js';
import { startDetached } from '../sys/run.js';
import { promises as fsp } from 'node:fs';

/** The subnets the links part uses, next to the demo's management subnet PREFIX.0/24 (e.g. 10.20.30). */
export function linkSubnets(prefix: string) {
  const [a, b] = prefix.split('.');
  return {
    /** The veth between the namespace (.1) and the host (.2). */
    veth: `${a}.${b}.31.0/30`,
    nsEnd: `${a}.${b}.31.1`,
    hostEnd: `${a}.${b}.31.2`,
    /** A "server" on the management LAN, behind its gateway (the LAN namespace's lo). */
    servers: `${a}.${b}.40.0/24`,
    server: `${a}.${b}.40.10`,
  };
}

export const LINK_NAMES = { ns: 'oobdemo-v', host: 'oobdemo-vh' } as const;

export interface LinksRun {
  ns: string;
  nic: string;
  prefix: string;
  me: string;
  lan: string;
  profileDir: string;
  port: number;
  listener: (text: string, port: number) => string;
  client: (host: string, port: number) => string;
  capture: (argv: string[]) => Promise<string>;
  waitListening: (port: number) => Promise<void>;
  /** Remember the host listener's pid, for the cleanup. */
  keepPid: (pid: number) => Promise<void>;
}

export async function runLinksPart(io: Io, r: LinksRun, say: (s: string) => void): Promise<void> {
  const s = linkSubnets(r.prefix);
  const fwdPort = r.port + 1;
  const lines = [
    '[veth]',
    `name = ${LINK_NAMES.ns}`,
    `host-name = ${LINK_NAMES.host}`,
    `address = ${s.nsEnd}/30`,
    `host-address = ${s.hostEnd}/30`,
    '',
    '[routes]',
    "# the host's agents (syslog, NTP, an apt proxy) reach the management LAN's servers through the namespace",
    `host = ${s.servers} via ${s.nsEnd}`,
    '',
    '[nat]',
    `# the namespace masquerades the host's traffic out of its NIC (the LAN sees ${r.me}), and the LAN's`,
    '# forwarded connections into the veth (the host answers the namespace, not a LAN it does not route)',
    `namespace = ${s.veth} out ${r.nic}, ${r.prefix}.0/24 out ${LINK_NAMES.ns}`,
    '',
    '[forward]',
    `# the management LAN reaches a host-only service (node_exporter, say) at ${r.me}:${fwdPort}`,
    `namespace = tcp ${fwdPort} to ${s.hostEnd}:${fwdPort}`,
    '',
  ];
  const file = profileFile(r.profileDir, r.ns);
  await fsp.appendFile(file, '\n' + lines.join('\n'));
  say(`\n==> the second half: the host reaches the management LAN through the namespace; the profile grows`);
  say(lines.join('\n').trimEnd().replace(/^/gm, '    '));

  const dio: Io = { ...io, paths: { ...io.paths, profileDir: r.profileDir } };
  const profile = await loadProfile(r.profileDir, r.ns);
  const plan = await planProfileUp(dio, profile, false);
  say(`\n==> oob plan ${r.ns}: only what is new`);
  for (const st of plan.steps) say(stepCommand(st).replace(/^/gm, '    '));
  const up = await upProfile(dio, profile);
  say(`\n==> oob up ${r.ns}: ${up.steps.length} steps`);
  say((await r.capture(['ip', '-br', 'addr', 'show', 'dev', LINK_NAMES.host])).replace(/^/gm, '    '));
  say((await r.capture(['ip', 'route', 'show', s.servers])).replace(/^/gm, '    '));

  say(`\n==> from the host: TCP to ${s.server}:${r.port}, a server on the management LAN`);
  say(`    ${await r.capture([process.execPath, '-e', r.client(s.server, r.port)])}`);

  const host = startDetached([
    process.execPath,
    '-e',
    r
      .listener("hello from the HOST's own service", fwdPort)
      .replace(`.listen(${fwdPort},`, `.listen(${fwdPort},${JSON.stringify(s.hostEnd)},`),
  ]);
  if (!host.pid) throw new OobError('internal', "the demo's listener in the host did not start");
  await r.keepPid(host.pid);
  await r.waitListening(fwdPort);
  say(`\n==> from the management LAN (namespace ${r.lan}): TCP to ${r.me}:${fwdPort}, the port forward`);
  say(`    ${await r.capture(['ip', 'netns', 'exec', r.lan, process.execPath, '-e', r.client(r.me, fwdPort)])}`);
}
