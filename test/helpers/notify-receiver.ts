// A real sd_notify receiving socket, as systemd has, from an independent implementation: python3's
// socket module binds abstract names at their exact length, as systemd does. Each datagram comes
// out as one JSON line with the sender's pid from SCM_CREDENTIALS; the file descriptors that
// systemd-notify passes along with BARRIER=1 are closed, as systemd does, so the sender goes on.
import { spawn, type ChildProcess } from 'node:child_process';

const RECEIVER = `
import socket, sys, json, array, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1].replace('@', '\\0', 1))
print('bound', flush=True)
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(64))
    pid = None
    for level, typ, data in anc:
        if typ == socket.SCM_RIGHTS:
            fds = array.array('i'); fds.frombytes(data[:len(data) - len(data) % 4])
            for fd in fds: os.close(fd)
        if typ == socket.SCM_CREDENTIALS:
            pid = array.array('i', data[:12])[0]
    print(json.dumps({'msg': msg.decode(), 'pid': pid}), flush=True)
`;

export interface Datagram {
  msg: string;
  pid: number;
}

export async function notifyReceiver(addr: string) {
  const p: ChildProcess = spawn('python3', ['-c', RECEIVER, addr], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  p.stdout!.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  const until = async (what: string, pred: () => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`${what}: the receiver saw ${JSON.stringify(lines)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  /** Every datagram so far, BARRIER=1 left out. */
  const datagrams = (): Datagram[] =>
    lines
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Datagram)
      .filter((m) => m.msg !== 'BARRIER=1');
  try {
    await until('binding', () => lines.includes('bound'));
  } catch (e) {
    p.kill('SIGKILL');
    throw e;
  }
  return {
    datagrams,
    /** Wait until n datagrams arrived (or one matching `text`). */
    wait: async (what: number | string, ms = 5000) => {
      await until(
        `waiting for ${what}`,
        () => (typeof what === 'number' ? datagrams().length >= what : datagrams().some((d) => d.msg.includes(what))),
        ms,
      );
      return datagrams();
    },
    close: () => void p.kill('SIGKILL'),
  };
}
