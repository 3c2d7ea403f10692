// What the --confirm tests share (confirm, confirm-attack, confirm-boot): the lab's NIC as an admin
// left it in the host (so that a revert has something to put back), oob in the background with its
// exit and output, and the units of a container's systemd as systemctl shows them.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Result } from './commands.js';
import { CLI } from './commands.js';
import type { Lab } from './namespaces.js';
import { waitFor } from './probes.js';

/** The lab's NIC in its host with an MTU, an alias, an address (and an IPv6 one with `v6`), up,
 * with a route of its own; the seed profile written. */
export async function spareNicConfigured(lab: Lab, opts: { v6?: boolean } = {}): Promise<void> {
  await lab.inHost(
    ['ip', '-batch', '-'],
    [
      `link set dev ${lab.nic} mtu 1400 alias "spare port"`,
      `addr add 192.168.77.5/24 brd + dev ${lab.nic}`,
      ...(opts.v6 ? [`addr add 2001:db8:77::5/64 dev ${lab.nic} nodad`] : []),
      `link set dev ${lab.nic} up`,
      `route add 172.16.99.0/24 via 192.168.77.1 dev ${lab.nic} metric 50`,
    ].join('\n') + '\n',
  );
  await lab.writeProfile(lab.seedProfile());
}

export interface Background {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
}

/** A child's output collected, and its end. */
export function collected(c: ChildProcess): Background {
  let stdout = '',
    stderr = '';
  c.stdout!.on('data', (d) => (stdout += d));
  c.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((r) =>
    c.on('close', (code, signal) => r({ code, signal, stdout, stderr })),
  );
  return { child: c, done };
}

/** oob in the lab's host, in the background, in its own process group; `children` gets it. */
export function oobInBackground(lab: Lab, children: ChildProcess[], args: string[]): Background {
  const c = spawn('/usr/bin/nsenter', [`--net=/run/netns/${lab.host}`, '--', process.execPath, CLI, ...args], {
    env: lab.env(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(c);
  return collected(c);
}

/** Something that runs systemctl where the units are (a Container). */
interface Systemd {
  exec(argv: string[]): Promise<Result>;
}

/** A property of a unit (systemctl show -P). */
export const unitState = async (where: Systemd, unit: string, prop: string) =>
  (await where.exec(['systemctl', 'show', '-P', prop, unit])).stdout.trim();

/** true once the unit is active; throws naming `what` after 60 s. */
export const unitActive = (where: Systemd, unit: string, what: string) =>
  waitFor(what, async () => ((await unitState(where, unit, 'ActiveState')) === 'active' ? true : undefined), 60_000);
