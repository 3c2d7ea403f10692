// A supervisor (`oob run`) of the lab's profile in the lab's host namespace, in the foreground (the
// supervise and DHCP tests): its output collected, its exit, its state file and the KEY=VALUE lease
// files its clients write.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { SupervisorState } from '../../../src/state/supervisor.js';
import { CLI } from './commands.js';
import type { Lab } from './namespaces.js';

/** A supervisor (`oob run`) in the lab's host namespace, in the foreground, its log collected. */
export class Sup {
  log = '';
  exit: Promise<number>;
  constructor(readonly p: ChildProcess) {
    p.stderr?.on('data', (d) => (this.log += d));
    p.stdout!.on('data', (d) => (this.log += d));
    this.exit = new Promise((r) => p.on('close', (code, sig) => r(code ?? (sig === 'SIGKILL' ? 137 : 128))));
  }
  get pid() {
    return this.p.pid!;
  }
}

/** `oob run PROFILE` in the lab's host; `sups` gets it (for the SIGKILL after the test). */
export function runSupervisor(lab: Lab, sups: Sup[]): Sup {
  const p = spawn(
    '/usr/bin/nsenter',
    [`--net=/run/netns/${lab.host}`, '--', process.execPath, CLI, 'run', lab.profile],
    { env: lab.env(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const s = new Sup(p);
  sups.push(s);
  return s;
}

/** The supervisor's state file (undefined while there is none). */
export const supervisorState = async (lab: Lab): Promise<SupervisorState | undefined> =>
  JSON.parse(await fsp.readFile(path.join(lab.runtimeDir, lab.profile, 'state.json'), 'utf8').catch(() => 'null'));

/** A lease file of the profile's DHCP client (dhcp4.lease, dhcp6.lease) as its KEY=VALUE fields. */
export async function leaseFields(lab: Lab, file: string): Promise<Record<string, string>> {
  const t = await fsp.readFile(path.join(lab.runtimeDir, lab.profile, file), 'utf8').catch(() => '');
  return Object.fromEntries(
    t.split('\n').flatMap((l) => (l.includes('=') ? [l.split('=', 2) as [string, string]] : [])),
  );
}
