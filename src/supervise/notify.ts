// sd_notify: tell systemd about readiness, status, the watchdog and shutdown.
//
// The protocol: one datagram of "KEY=VALUE\n" lines to the AF_UNIX socket named in $NOTIFY_SOCKET
// ("/path", or "@name" for the abstract namespace). Node has no unix datagram sockets, so the
// transport is systemd's own `systemd-notify`, run as `systemd-notify --pid=<our pid> K=V...`:
// it is there wherever systemd is (the only place NOTIFY_SOCKET is set), it speaks both address
// kinds exactly, `--pid` puts our pid in the message's credentials (so NotifyAccess=main accepts
// it and systemd attributes it even after the helper has exited), and it waits on a BARRIER until
// systemd has read the message. The datagram packages were weighed and measured against a real
// receiving socket: node-unix-socket pads abstract names with NULs (its sends to "@name" are
// refused), unix-dgram needs a C++ toolchain on every server at install time. A message costs one
// short process; oob sends few (status changes, and WATCHDOG=1 at half the watchdog period).
import { CommandError, firstLine, spawnRunner, type Runner } from '../sys/run.js';

export type NotifyFields = Record<string, string>;

export interface Notifier {
  readonly enabled: boolean;
  /** Half of WATCHDOG_USEC, in ms, when systemd expects WATCHDOG=1 from us. */
  readonly watchdogIntervalMs: number | undefined;
  send(fields: NotifyFields): Promise<void>;
}

export function formatFields(fields: NotifyFields): string[] {
  return Object.entries(fields).map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`);
}

/** "@name" -> abstract, "/path" -> filesystem; anything else (vsock: ...) is not supported here. */
export function addressKind(notifySocket: string): 'abstract' | 'path' | undefined {
  if (notifySocket.startsWith('@')) return 'abstract';
  if (notifySocket.startsWith('/')) return 'path';
  return undefined;
}

export function watchdogInterval(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

const none: Notifier = { enabled: false, watchdogIntervalMs: undefined, send: async () => {} };

export function createNotifier(
  env: NodeJS.ProcessEnv,
  opts: { pid?: number; binary?: string; warn?: (m: string) => void; run?: Runner } = {},
): Notifier {
  const raw = env.NOTIFY_SOCKET;
  if (!raw) return none;
  if (!addressKind(raw)) {
    opts.warn?.(`NOTIFY_SOCKET=${raw}: only unix socket addresses are supported; not notifying systemd`);
    return none;
  }
  const pid = opts.pid ?? process.pid;
  let chain: Promise<void> = Promise.resolve();
  const run = opts.run ?? spawnRunner;
  const sendOne = async (fields: NotifyFields) => {
    try {
      await run([opts.binary ?? 'systemd-notify', `--pid=${pid}`, ...formatFields(fields)], {
        env: { PATH: env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: raw },
      });
    } catch (e) {
      if (e instanceof CommandError)
        throw new Error(`systemd-notify: ${firstLine(e.result.stderr) || `exit ${e.result.code}`}`);
      throw e;
    }
  };
  return {
    enabled: true,
    watchdogIntervalMs: watchdogInterval(env, pid),
    // one at a time, in order: systemd sees the messages as they were sent
    send: (fields) => {
      const p = chain.then(() => sendOne(fields));
      chain = p.catch(() => {});
      return p;
    },
  };
}

/** Environment variables that belong to oob's own contract with systemd, not to its children. */
export const SYSTEMD_PRIVATE_ENV = [
  'NOTIFY_SOCKET',
  'WATCHDOG_USEC',
  'WATCHDOG_PID',
  'LISTEN_FDS',
  'LISTEN_PID',
  'LISTEN_FDNAMES',
];
