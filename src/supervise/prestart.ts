// What a start runs before the service: its pre-start commands, in the namespace (`ip netns exec`,
// so /etc/netns/NAME applies), as the service's user. Service runs them before each start; for the
// first start of a service whose commands need the namespace but not its network (a preset says
// so: sshd's directory and `sshd -t`), the supervisor runs them while the network comes up, as
// soon as the namespace is there (earlyPrestart), instead of after.
//
// An early run is only ever trusted to have passed: its success counts when every command exited 0
// in the very namespace the service then starts in (the same id before and after the commands,
// and after up). Anything else (a command failed, the namespace was not there or changed, up
// failed) counts as not run: the start runs the commands again after up, as it always did, so a
// failure is reported by that run, the way it always was.
import { promises as fsp } from 'node:fs';
import type { ServiceConfig } from '../profile/types.js';
import { until } from '../sys/until.js';
import type { ServiceHost } from './host.js';

/** How often the early run looks for the namespace while up creates it (one stat). */
export const NS_POLL_MS = 5;

/** The setpriv prefix for the service's user and group; a string: why there is none. */
export async function userPrefix(def: ServiceConfig, host: ServiceHost): Promise<string[] | string> {
  if (def.user === undefined && def.group === undefined) return [];
  const ids = await host.resolveUser(def.user ?? 'root', def.group);
  if (typeof ids === 'string') return ids;
  return [
    'setpriv',
    `--reuid=${ids.uid}`,
    `--regid=${ids.gid}`,
    ...(def.user !== undefined ? ['--init-groups'] : ['--clear-groups']),
    '--',
  ];
}

/**
 * The namespace id of a /run/netns entry once a namespace is mounted on it (`net:[INODE]`, as
 * /proc/PID/ns/net shows it); undefined while there is none, and in the moment `ip netns add` has
 * made the file but not mounted the namespace on it yet (its inode is the file's).
 */
export async function mountedNetnsId(nsPath: string): Promise<string | undefined> {
  try {
    const [st, own] = await Promise.all([fsp.stat(nsPath), fsp.stat('/proc/self/ns/net')]);
    return st.dev === own.dev ? `net:[${st.ino}]` : undefined;
  } catch {
    return undefined;
  }
}

/** The argv of one pre-start command. */
export const prestartArgv = (ns: string, prefix: string[], cmd: string[]) => [
  'ip',
  'netns',
  'exec',
  ns,
  ...prefix,
  ...cmd,
];

export interface EarlyDeps {
  host: ServiceHost;
  ns: string;
  env: NodeJS.ProcessEnv;
  /** The namespace's id now (sys/proc.ts netnsId of /run/netns/NAME), undefined while there is none. */
  nsId(): Promise<string | undefined>;
  /** Up has ended (done or failed): no more waiting for the namespace. */
  upEnded(): boolean;
}

/**
 * Run the pre-start commands of def once its namespace is there (or up has ended): the namespace's
 * id when every one of them passed in it, else undefined. Never throws.
 */
export async function earlyPrestart(def: ServiceConfig, d: EarlyDeps): Promise<string | undefined> {
  try {
    const before = await until(async () => (await d.nsId()) ?? (d.upEnded() ? null : undefined), {
      intervalMs: NS_POLL_MS,
      timeoutMs: 120_000,
      now: d.host.clock.now,
      sleep: d.host.clock.sleep,
    });
    if (!before) return undefined;
    const prefix = await userPrefix(def, d.host);
    if (typeof prefix === 'string') return undefined;
    const env = { ...d.env, ...def.env };
    for (const cmd of def.prestart) {
      const r = await d.host.run(prestartArgv(d.ns, prefix, cmd), env);
      if (r.code !== 0) return undefined;
    }
    return (await d.nsId()) === before ? before : undefined;
  } catch {
    return undefined;
  }
}
