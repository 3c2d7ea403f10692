// One lock per profile, so that two oob processes never interleave their steps on it.
//
// Node has no flock(). The lock is a listening socket in the abstract unix namespace, named after
// the runtime directory and the profile: binding is atomic, and the kernel releases it the moment
// its holder exits, even by SIGKILL, so a lock can never go stale. Abstract names belong to a
// network namespace: every oob acting on a host runs in that host's namespace, which is what
// "the same profile" means here.
import { createServer, type Server } from 'node:net';
import { OobError } from '../errors.js';

export interface Lock {
  release(): Promise<void>;
}

export function lockName(runtimeDir: string, profile: string): string {
  return `\0oob-lock:${runtimeDir}:${profile}`;
}

function tryBind(name: string, keepAlive: boolean): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(null) : reject(e)));
    srv.listen({ path: name, exclusive: true }, () => {
      if (!keepAlive) srv.unref();
      resolve(srv);
    });
  });
}

/** keepAlive: the held lock keeps the process running (the supervisor's, until it releases it). */
export async function acquireLock(runtimeDir: string, profile: string, waitMs: number, opts: { keepAlive?: boolean } = {}): Promise<Lock> {
  const name = lockName(runtimeDir, profile);
  const deadline = Date.now() + waitMs;
  let delay = 10;
  for (;;) {
    const srv = await tryBind(name, opts.keepAlive ?? false);
    if (srv) return { release: () => new Promise((r) => srv.close(() => r())) };
    if (Date.now() >= deadline)
      throw new OobError('busy', `profile ${profile} is busy: another oob is changing it right now; try again when it has finished (waited ${Math.round(waitMs / 1000)} s)`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

export async function withLock<T>(runtimeDir: string, profile: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(runtimeDir, profile, waitMs);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
