// One lock per profile, so that two oob processes never interleave their steps on it, and one per
// supervisor, so that a profile has one supervisor at most.
//
// Node has no flock(). A lock is held by a listening unix socket in RUNTIME_DIR/locks, a directory
// only root can enter (mode 0700, checked), so no other user can take or block a lock (an abstract
// socket name, by contrast, can be bound by any user first). The kernel ends the socket with its
// holder, even on SIGKILL: a socket file that refuses connections is stale, and is removed by the
// next one who wants the lock.
//
// The protocol, with no step that can race into two holders:
//   1. bind and listen on a socket under a temporary name, then rename it to KIND:NAME@UNIQUE, so
//      that the published name accepts connections from its first instant;
//   2. look at every other KIND:NAME@* there: one that accepts a connection is alive, and we lost
//      (remove ours, wait, retry); one that refuses is stale and is removed. Each name is unique
//      and never created again, so removing a stale one can never remove a live one.
//   Of two contenders, the one that looks later sees the other alive; both may lose, and retry
//   after a random wait.
import { existsSync, promises as fsp } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import * as path from 'node:path';
import { OobError } from '../errors.js';
import { lockDir, lockPrefix, lockTempPrefix, MAX_SOCKET_PATH, type LockKind } from '../state/layout.js';
import { sleep } from '../sys/until.js';

export interface Lock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** The held lock keeps the process running (the supervisor's, until it releases it). */
  keepAlive?: boolean;
  /** Default: profile. */
  kind?: LockKind;
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** A directory of root's (or of the user running oob), which no one else can write: for the runtime directory and its locks. */
async function checkOwnDir(dir: string, euid: number, strict: boolean): Promise<void> {
  const st = await fsp.lstat(dir);
  const who = euid === 0 ? 'root' : `uid ${euid}`;
  if (!st.isDirectory())
    throw new OobError(
      'permission',
      `${dir}: not a directory (${st.isSymbolicLink() ? 'a symbolic link' : 'another kind of file'}): oob keeps its locks there; remove it (oob makes it again)`,
    );
  if (st.uid !== euid)
    throw new OobError(
      'permission',
      `${dir}: owned by uid ${st.uid}, not ${who}: that user could take or block oob's locks; remove it (oob makes it again)`,
    );
  const open = strict ? st.mode & 0o077 : st.mode & 0o022 && !(st.mode & 0o1000);
  if (open)
    throw new OobError(
      'permission',
      `${dir}: mode ${(st.mode & 0o7777).toString(8)}: other users could take or block oob's locks; fix with: chmod ${strict ? '700' : 'go-w'} ${dir}`,
    );
}

/** RUNTIME_DIR/locks, made if missing (mode 0700) and checked: a directory of ours that no one else can enter. */
async function ensureLockDir(runtimeDir: string): Promise<string> {
  const euid = process.geteuid?.() ?? 0;
  const dir = lockDir(runtimeDir);
  await fsp.mkdir(runtimeDir, { recursive: true, mode: 0o755 });
  await checkOwnDir(runtimeDir, euid, false);
  await fsp.mkdir(dir, { mode: 0o700 }).catch((e: unknown) => {
    if (errno(e) !== 'EEXIST') throw e;
  });
  await checkOwnDir(dir, euid, true);
  return dir;
}

/** A listening socket at file, which drops every connection (a connection only asks "are you alive?"). */
function listenAt(file: string, keepAlive: boolean): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer((c) => c.destroy());
    srv.once('error', reject);
    srv.listen({ path: file, exclusive: true }, () => {
      srv.removeListener('error', reject);
      srv.on('error', () => {});
      if (!keepAlive) srv.unref();
      resolve(srv);
    });
  });
}

/** Does a live process hold the socket at file? 'gone' when the file is not there (any more). */
function probe(file: string): Promise<'alive' | 'stale' | 'gone'> {
  return new Promise((resolve) => {
    const c = connect({ path: file });
    const done = (r: 'alive' | 'stale' | 'gone') => {
      clearTimeout(timer);
      c.destroy();
      resolve(r);
    };
    // a listener whose backlog is full does not answer at once: it is alive
    const timer = setTimeout(() => done('alive'), 1000);
    c.once('connect', () => done('alive'));
    c.once('error', (e) => done(errno(e) === 'ECONNREFUSED' ? 'stale' : errno(e) === 'ENOENT' ? 'gone' : 'alive'));
  });
}

const closeServer = (srv: Server) => new Promise<void>((r) => srv.close(() => r()));

let tries = 0;
/**
 * A socket's name, never used before nor again: our pid (the temporary sockets of dead processes
 * are found by it), a count of our tries, and ~52 random bits (two pid namespaces sharing the lock
 * directory can have the same pid: the random part keeps their names apart, as the 48 random bits
 * of randomBytes(6) did). Not node:crypto's randomBytes: it loads ~17 modules, ~6 ms of every oob up
 * and down, and this name is no secret (only root enters the lock directory); it need only never
 * repeat. As long as before: the pid, "-", 12 characters.
 */
const base36 = (n: number, width: number) => Math.floor(n).toString(36).padStart(width, '0');
const uniqueName = () =>
  `${process.pid}-${base36(tries++ % 36 ** 2, 2)}${base36(Math.random() * 36 ** 5, 5)}${base36(Math.random() * 36 ** 5, 5)}`;

/** One try: publish our socket, then look at the others. The held lock, or null when another holds it (or contends now). */
async function tryOnce(dir: string, prefix: string, keepAlive: boolean): Promise<Lock | null> {
  const unique = uniqueName();
  const temp = path.join(dir, lockTempPrefix + unique);
  const mine = path.join(dir, prefix + unique);
  const srv = await listenAt(temp, keepAlive);
  try {
    await fsp.rename(temp, mine);
  } catch (e) {
    await closeServer(srv);
    await fsp.rm(temp, { force: true });
    if (errno(e) === 'ENOENT') return null; // taken for a stale temporary socket and removed: try again
    throw e;
  }
  const lost = async () => {
    await fsp.rm(mine, { force: true });
    await closeServer(srv);
    return null;
  };
  for (const f of await fsp.readdir(dir)) {
    const file = path.join(dir, f);
    if (f.startsWith(lockTempPrefix)) {
      // a temporary socket of a process that is gone (killed between bind and rename)
      const pid = Number(f.slice(lockTempPrefix.length).split('-')[0]);
      if (pid > 0 && !existsSync(`/proc/${pid}`)) await fsp.rm(file, { force: true });
      continue;
    }
    if (!f.startsWith(prefix) || file === mine) continue;
    const state = await probe(file);
    if (state === 'alive') return lost();
    if (state === 'stale') await fsp.rm(file, { force: true });
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await fsp.rm(mine, { force: true });
      await closeServer(srv);
    },
  };
}

export async function acquireLock(
  runtimeDir: string,
  name: string,
  waitMs: number,
  opts: LockOptions = {},
): Promise<Lock> {
  const kind = opts.kind ?? 'profile';
  const dir = await ensureLockDir(runtimeDir);
  const prefix = lockPrefix(kind, name);
  const longest = path.join(dir, `${prefix}${'0'.repeat(22)}`);
  if (Buffer.byteLength(longest) > MAX_SOCKET_PATH)
    throw new OobError(
      'precondition',
      `${runtimeDir}: too long for oob's lock sockets (${Buffer.byteLength(longest)} bytes with the lock's name; unix sockets take ${MAX_SOCKET_PATH}): set OOB_RUNTIME_DIR to a shorter directory`,
    );
  const deadline = Date.now() + waitMs;
  let delay = 10;
  for (;;) {
    const lock = await tryOnce(dir, prefix, opts.keepAlive ?? false);
    if (lock) return lock;
    if (Date.now() >= deadline) {
      if (kind === 'supervisor') throw new OobError('busy', `a supervisor for ${name} is already running`);
      throw new OobError(
        'busy',
        `profile ${name} is busy: another oob is changing it right now; try again when it has finished (waited ${Math.round(waitMs / 1000)} s)`,
      );
    }
    // random, so that two that keep meeting part
    await sleep(Math.min(delay / 2 + Math.random() * delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 200);
  }
}

export async function withLock<T>(
  runtimeDir: string,
  name: string,
  waitMs: number,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const lock = await acquireLock(runtimeDir, name, waitMs, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
