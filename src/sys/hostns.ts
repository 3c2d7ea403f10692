// oob typed in a session that came in through a management plane (an sshd copy in namespace NAME)
// runs in that namespace: every `ip` it runs would read and change NAME's links as if they were
// the host's (enable refused its own NIC as a lock-out, status showed the namespace as the host).
// So a command started inside one of oob's own namespaces runs itself again in the host's network
// and mount namespaces (those of PID 1: the mount namespace too, since `ip netns exec` gave the
// session a private /sys and /etc/resolv.conf). Only oob's own namespaces: a caller in any other
// namespace (a container, a test's stand-in host) is where it says it is.
import { closeSync, existsSync, openSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

/** The host's network namespace: PID 1's, or $OOB_HOST_NETNS (the tests' stand-in host). */
export const hostNetns = (env: NodeJS.ProcessEnv) => env.OOB_HOST_NETNS || '/proc/1/ns/net';
/** The host's mount namespace: PID 1's, or $OOB_HOST_MNTNS (the tests': this machine's PID 1 does not let it be opened). */
export const hostMntns = (env: NodeJS.ProcessEnv) => env.OOB_HOST_MNTNS || '/proc/1/ns/mnt';
/** Set in the command run again, so that it never loops. */
export const IN_HOST_ENV = 'OOB_IN_HOST_NAMESPACE';

const idOf = (p: string) => {
  try {
    const s = statSync(p);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
};

/**
 * The oob namespace the caller is in (its name), when that is not the host's; undefined otherwise.
 * Cheap when the caller is in the host: two stat calls.
 */
export function ownNamespaceOfCaller(
  env: NodeJS.ProcessEnv,
  runtimeDir: string,
  netnsRunDir = '/run/netns',
): string | undefined {
  if (env[IN_HOST_ENV]) return undefined;
  const self = idOf('/proc/self/ns/net');
  const host = idOf(hostNetns(env));
  if (!self || !host || self === host) return undefined;
  let names: string[];
  try {
    names = readdirSync(netnsRunDir);
  } catch {
    return undefined;
  }
  return names.find((n) => idOf(path.join(netnsRunDir, n)) === self && existsSync(path.join(runtimeDir, n)));
}

/** The command line that runs this same oob again in the host's network and mount namespaces. */
export function inHostArgv(env: NodeJS.ProcessEnv, argv: string[]): string[] {
  return ['/usr/bin/nsenter', `--net=${hostNetns(env)}`, `--mount=${hostMntns(env)}`, '--', ...argv];
}

/** Why the host's namespaces cannot be entered (a namespace file that does not open), or undefined. */
export function hostNamespacesUnreachable(env: NodeJS.ProcessEnv): string | undefined {
  for (const f of [hostNetns(env), hostMntns(env)]) {
    try {
      closeSync(openSync(f, 'r'));
    } catch (e) {
      return `${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
    }
  }
  return undefined;
}
