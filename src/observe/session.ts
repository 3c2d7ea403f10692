// The caller's SSH session, for the lock-out guard. SSH_CONNECTION is not enough: sudo's env_reset
// drops it (and oob's own hint says "try sudo"). The process tree is the truth: walk from this
// process up the parent chain to the first sshd that holds an established TCP socket, and read
// that socket's addresses from /proc/PID/net/tcp{,6}. Reads /proc only; the parsers are pure.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as os from 'node:os';
import { familyOf, fromBigInt, plainIp } from '../net/addr.js';
import type { SshSession } from './types.js';

/** SSH_CONNECTION ("client cport local lport"); IPv4-mapped addresses become IPv4. Pure. */
export function parseSshConnection(v: string | undefined): SshSession | undefined {
  const parts = (v ?? '').trim().split(/\s+/);
  if (parts.length !== 4 || !familyOf(parts[0]!) || !familyOf(parts[2]!)) return undefined;
  const port = (p: string) => (/^\d{1,5}$/.test(p) ? { n: Number(p) } : undefined);
  const cp = port(parts[1]!),
    lp = port(parts[3]!);
  return {
    client: plainIp(parts[0]!),
    local: plainIp(parts[2]!),
    ...(lp ? { localPort: lp.n } : {}),
    ...(cp ? { clientPort: cp.n } : {}),
    found: { by: 'SSH_CONNECTION' },
  };
}

/** /proc/PID/stat: the command name (what the kernel calls comm) and the parent's pid. Pure. */
export function parseProcStat(text: string): { comm: string; ppid: number } | undefined {
  const open = text.indexOf('('),
    close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const ppid = Number(text.slice(close + 2).split(' ')[1]);
  return Number.isInteger(ppid) ? { comm: text.slice(open + 1, close), ppid } : undefined;
}

/** The processes of an SSH server that hold a client's connection (OpenSSH ≥ 9.8 calls them sshd-session). */
export const isSshServer = (comm: string) => /^(sshd|sshd-session|sshd-auth|dropbear)$/.test(comm);

/**
 * An address as /proc/net/tcp{,6} prints it: 32-bit words in the kernel's byte order, so on a
 * little-endian machine each word's bytes are reversed. IPv4-mapped IPv6 comes back as IPv4. Pure.
 */
export function procAddr(hex: string, littleEndian: boolean): string | undefined {
  if (!/^([0-9A-Fa-f]{8}){1,4}$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  let n = 0n;
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    const bytes = word.match(/../g)!;
    n = (n << 32n) | BigInt('0x' + (littleEndian ? bytes.reverse() : bytes).join(''));
  }
  return hex.length === 8 ? fromBigInt(n, 4) : plainIp(fromBigInt(n, 6));
}

export interface TcpConnection {
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  inode: string;
}

/** The ESTABLISHED rows (state 01) of /proc/PID/net/tcp or tcp6. Pure. */
export function establishedRows(text: string, littleEndian: boolean): TcpConnection[] {
  const out: TcpConnection[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length <= 9 || f[3] !== '01') continue;
    const [la, lp] = f[1]!.split(':'),
      [ra, rp] = f[2]!.split(':');
    const local = procAddr(la ?? '', littleEndian),
      remote = procAddr(ra ?? '', littleEndian);
    if (!local || !remote) continue;
    out.push({ local, localPort: parseInt(lp!, 16), remote, remotePort: parseInt(rp!, 16), inode: f[9]! });
  }
  return out;
}

// Synchronous on purpose: a few small /proc files, each read in microseconds, where the promise
// API costs about a millisecond per file (open, stat, read, close on the thread pool).
const attempt = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch {
    return undefined;
  }
};
const read = (f: string) => attempt(() => readFileSync(f, 'utf8'));
const link = (f: string) => attempt(() => readlinkSync(f));

/** The socket inodes a process holds, lowest descriptor first. */
function socketInodes(proc: string, pid: number): string[] {
  const fds = (attempt(() => readdirSync(`${proc}/${pid}/fd`)) ?? [])
    .map(Number)
    .filter(Number.isInteger)
    .sort((a, b) => a - b);
  const out: string[] = [];
  for (const fd of fds) {
    const m = /^socket:\[(\d+)\]$/.exec(link(`${proc}/${pid}/fd/${fd}`) ?? '');
    if (m) out.push(m[1]!);
  }
  return out;
}

/**
 * The SSH session `pid` runs in: the first sshd up its parent chain holding an established TCP
 * connection (its lowest descriptor's, when it holds several), and whether that sshd lives in the
 * network namespace of `pid` (if not, nothing moved here can cut it). Undefined when there is none.
 */
export async function sessionFromProcessTree(
  opts: { pid?: number; proc?: string; littleEndian?: boolean } = {},
): Promise<{ session: SshSession; sameNetns: boolean } | undefined> {
  const proc = opts.proc ?? '/proc';
  const start = opts.pid ?? process.pid;
  const le = opts.littleEndian ?? os.endianness() === 'LE';
  let pid = start;
  for (let hops = 0; hops < 64 && pid > 1; hops++) {
    const st = parseProcStat(read(`${proc}/${pid}/stat`) ?? '');
    if (!st) return undefined;
    if (isSshServer(st.comm)) {
      const inodes = socketInodes(proc, pid);
      if (inodes.length) {
        const rows = [
          ...establishedRows(read(`${proc}/${pid}/net/tcp`) ?? '', le),
          ...establishedRows(read(`${proc}/${pid}/net/tcp6`) ?? '', le),
        ];
        const conn = inodes.map((i) => rows.find((r) => r.inode === i)).find((r) => r !== undefined);
        if (conn) {
          const [mine, theirs] = [link(`${proc}/${start}/ns/net`), link(`${proc}/${pid}/ns/net`)];
          const session: SshSession = {
            local: conn.local,
            localPort: conn.localPort,
            client: conn.remote,
            clientPort: conn.remotePort,
            found: { by: 'sshd', pid },
          };
          return { session, sameNetns: mine !== undefined && mine === theirs };
        }
      }
    }
    pid = st.ppid;
  }
  return undefined;
}

/**
 * The caller's session: from the process tree first (it cannot be stale or dropped), else
 * SSH_CONNECTION; none when the tree's session runs in another network namespace (the variable
 * would describe that same session).
 */
export async function observeSession(
  env: NodeJS.ProcessEnv,
  opts: { pid?: number; proc?: string } = {},
): Promise<SshSession | undefined> {
  const tree = await sessionFromProcessTree(opts);
  if (tree) return tree.sameNetns ? tree.session : undefined;
  return parseSshConnection(env.SSH_CONNECTION);
}
