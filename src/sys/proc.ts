// What /proc says about processes: alive, started when, in which network namespace, listening on
// which ports (and whether a process itself is the one listening). Reading files here costs no process start.
import { promises as fsp, readFileSync } from 'node:fs';

/** Field 22 of /proc/PID/stat: start time in clock ticks since boot; with the pid it names one process. */
export async function startTime(pid: number): Promise<number | undefined> {
  try {
    const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    if (state === 'Z' || state === 'X') return undefined; // a zombie is gone for our purposes
    return Number(rest[19]);
  } catch {
    return undefined;
  }
}

/** Is it the same process we knew (pid not reused)? */
export async function sameProcess(pid: number, start: number | undefined): Promise<boolean> {
  const now = await startTime(pid);
  return now !== undefined && (start === undefined || now === start);
}

export async function netnsOf(pid: number): Promise<string | undefined> {
  return fsp.readlink(`/proc/${pid}/ns/net`).catch(() => undefined);
}

/** The inode link of a named namespace, as /proc/PID/ns/net shows it. */
export async function netnsId(nsPath: string): Promise<string | undefined> {
  try {
    const st = await fsp.stat(nsPath);
    return `net:[${st.ino}]`;
  } catch {
    return undefined;
  }
}

export async function cmdline(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((x, i, a) => i < a.length - 1 || x !== '');
  } catch {
    return undefined;
  }
}

/** Rows of a /proc/net/{tcp,udp}{,6} table in one state (0A: TCP listening, 07: UDP bound): local port and socket inode. Pure. */
export function socketRows(text: string, state: string): Array<{ port: number; inode: string }> {
  const rows: Array<{ port: number; inode: string }> = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[3] === state) rows.push({ port: parseInt(f[1]!.split(':')[1]!, 16), inode: f[9]! });
  }
  return rows;
}

/** Parse /proc/net/tcp{,6}: ports in LISTEN state. Pure. */
export function listeningPorts(text: string): number[] {
  return [...new Set(socketRows(text, '0A').map((r) => r.port))].sort((a, b) => a - b);
}

/** The inodes of the sockets a process holds open (its fd links `socket:[INODE]`). */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const fd of await fsp.readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const m = /^socket:\[(\d+)\]$/.exec(await fsp.readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    if (m) inodes.add(m[1]!);
  }
  return inodes;
}

/** TCP sockets listening and UDP sockets bound by a process (its own file descriptors), from /proc. */
export async function socketsOf(pid: number): Promise<string[]> {
  const inodes = await socketInodes(pid);
  if (!inodes.size) return [];
  const out = new Set<string>();
  for (const [proto, file, state] of [
    ['tcp', 'tcp', '0A'],
    ['tcp', 'tcp6', '0A'],
    ['udp', 'udp', '07'],
    ['udp', 'udp6', '07'],
  ] as const) {
    const text = await fsp.readFile(`/proc/${pid}/net/${file}`, 'utf8').catch(() => '');
    for (const r of socketRows(text, state)) if (inodes.has(r.inode)) out.add(`${proto}:${r.port}`);
  }
  return [...out].sort();
}

/** TCP ports listening in the network namespace of `pid`. */
export async function listeningPortsOf(pid: number): Promise<number[] | undefined> {
  try {
    const [t4, t6] = await Promise.all([
      fsp.readFile(`/proc/${pid}/net/tcp`, 'utf8'),
      fsp.readFile(`/proc/${pid}/net/tcp6`, 'utf8').catch(() => ''),
    ]);
    return [...new Set([...listeningPorts(t4), ...listeningPorts(t6)])].sort((a, b) => a - b);
  } catch {
    return undefined;
  }
}

/** How many processes below a service are looked at for its socket: a service is a process or a
 * handful of them (a wrapper shell, a daemon's workers); a fork storm does not make a look unbounded. */
export const MAX_DESCENDANTS = 64;

/** The descendants of `pid`, nearest first, at most `max`: one pass over /proc/N/stat (field 4 is
 * the parent; a kernel may not offer /proc/PID/task/TID/children). Read synchronously: a /proc
 * file is read from memory, ~25 µs a process, where fs.promises costs ~30 times that. */
export async function descendantsOf(pid: number, max = MAX_DESCENDANTS): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const n of await allPids()) {
    let stat = '';
    try {
      stat = readFileSync(`/proc/${n}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!ppid) continue;
    const siblings = children.get(ppid);
    if (siblings) siblings.push(n);
    else children.set(ppid, [n]);
  }
  const out: number[] = [];
  for (let i = -1; i < out.length && out.length < max; i++)
    for (const c of children.get(i < 0 ? pid : out[i]!) ?? []) if (out.length < max && c !== pid) out.push(c);
  return out;
}

/**
 * Does the process `pid` hold a TCP socket listening on `port` in its network namespace, or, when
 * it does not itself and `descendants` is set, one of its descendants (a wrapper's child, a
 * daemon's worker)? A listener of another process on that port in the namespace does not count.
 * undefined: the process is gone. The descendants (a pass over /proc) are looked at only while
 * some socket listens on the port that pid does not hold.
 */
export async function listensOn(pid: number, port: number, descendants = true): Promise<boolean | undefined> {
  let tables: string[];
  try {
    tables = await Promise.all([
      fsp.readFile(`/proc/${pid}/net/tcp`, 'utf8'),
      fsp.readFile(`/proc/${pid}/net/tcp6`, 'utf8').catch(() => ''),
    ]);
  } catch {
    return undefined;
  }
  const onPort = new Set(tables.flatMap((t) => socketRows(t, '0A').filter((r) => r.port === port)).map((r) => r.inode));
  if (!onPort.size) return false;
  const holds = async (p: number) => [...(await socketInodes(p))].some((i) => onPort.has(i));
  if (await holds(pid)) return true;
  if (descendants) for (const d of await descendantsOf(pid)) if (await holds(d)) return true;
  // read last: a pid that died while its fds were read is gone, not "not listening"
  return (await startTime(pid)) === undefined ? undefined : false;
}

export async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const n = Number((await fsp.readFile(file, 'utf8')).trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** uid/gid for a user (name or number) and an optional group, from /etc/passwd and /etc/group. */
export async function resolveUser(user: string, group?: string): Promise<{ uid: number; gid: number } | string> {
  const passwd = await fsp.readFile('/etc/passwd', 'utf8').catch(() => '');
  const groups = await fsp.readFile('/etc/group', 'utf8').catch(() => '');
  const pw = passwd
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === user || (/^\d+$/.test(user) && f[2] === user));
  const uid = pw ? Number(pw[2]) : /^\d+$/.test(user) ? Number(user) : undefined;
  if (uid === undefined) return `user "${user}" does not exist`;
  let gid = pw ? Number(pw[3]) : undefined;
  if (group !== undefined) {
    const gr = groups
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[0] === group || (/^\d+$/.test(group) && f[2] === group));
    gid = gr ? Number(gr[2]) : /^\d+$/.test(group) ? Number(group) : undefined;
    if (gid === undefined) return `group "${group}" does not exist`;
  }
  if (gid === undefined) return `user "${user}" has no primary group: give group =`;
  return { uid, gid };
}

/** The pids of every process /proc shows (those of this pid namespace). */
export async function allPids(): Promise<number[]> {
  const names = await fsp.readdir('/proc').catch(() => [] as string[]);
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

/** The environment a process was started with (/proc/PID/environ; root reads every process's). */
export async function environ(pid: number): Promise<Record<string, string> | undefined> {
  try {
    const raw = await fsp.readFile(`/proc/${pid}/environ`, 'utf8');
    const env: Record<string, string> = {};
    for (const kv of raw.split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return env;
  } catch {
    return undefined;
  }
}

/** A process's working directory. */
export async function cwdOf(pid: number): Promise<string | undefined> {
  return fsp.readlink(`/proc/${pid}/cwd`).catch(() => undefined);
}
