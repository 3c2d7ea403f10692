import { expect } from 'chai';
import { promises as fsp, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  establishedRows,
  isSshServer,
  observeSession,
  parseProcStat,
  parseSshConnection,
  procAddr,
  sessionFromProcessTree,
} from '../../../src/observe/session.js';

// Saved from a scratch namespace: a dual-stack listener on [::]:2222, one on 10.99.0.5:2223, and
// clients from 10.99.0.9 and 2001:db8:99::9 (x86_64, little-endian).
const fixture = (f: string) => readFileSync(new URL(`../../../../test/fixtures/proc/${f}`, import.meta.url), 'utf8');
const TCP = fixture('net-tcp'),
  TCP6 = fixture('net-tcp6');

describe('observe/session: parsing /proc', () => {
  it("decodes /proc/net/tcp addresses in the kernel's byte order", () => {
    expect(procAddr('0500630A', true)).to.equal('10.99.0.5');
    expect(procAddr('0A630005', false)).to.equal('10.99.0.5');
    expect(procAddr('B80D0120000099000000000005000000', true)).to.equal('2001:db8:99::5');
    expect(procAddr('nonsense', true)).to.equal(undefined);
  });
  it('reads the ESTABLISHED rows of tcp and tcp6, IPv4-mapped ones as IPv4', () => {
    expect(establishedRows(TCP, true)).to.deep.include({
      local: '10.99.0.5',
      localPort: 2223,
      remote: '10.99.0.9',
      remotePort: 0x9e59,
      inode: '262715',
    });
    expect(establishedRows(TCP, true).map((r) => r.inode)).not.to.include('262710'); // the listener
    const six = establishedRows(TCP6, true);
    expect(six).to.deep.include({
      local: '10.99.0.5',
      localPort: 2222,
      remote: '10.99.0.9',
      remotePort: 0x88a3,
      inode: '262714',
    });
    expect(six).to.deep.include({
      local: '2001:db8:99::5',
      localPort: 2222,
      remote: '2001:db8:99::9',
      remotePort: 0x86af,
      inode: '262716',
    });
  });
  it('reads comm and the parent pid from /proc/PID/stat, also with parentheses in the name', () => {
    expect(parseProcStat(fixture('stat-sshd'))).to.deep.equal({ comm: 'sshd', ppid: 1 });
    expect(parseProcStat('42 (a) b (c)) S 7 42 42 0')).to.deep.equal({ comm: 'a) b (c)', ppid: 7 });
    expect(parseProcStat('garbage')).to.equal(undefined);
    expect(['sshd', 'sshd-session', 'bash', 'sudo', 'sshd: root'].map(isSshServer)).to.deep.equal([
      true,
      true,
      false,
      false,
      false,
    ]);
  });
  it('reads SSH_CONNECTION, IPv4-mapped addresses as IPv4', () => {
    expect(parseSshConnection('::ffff:10.0.0.9 50000 ::ffff:10.0.0.5 22')).to.deep.equal({
      client: '10.0.0.9',
      local: '10.0.0.5',
      clientPort: 50000,
      localPort: 22,
      found: { by: 'SSH_CONNECTION' },
    });
    expect(parseSshConnection('2001:db8::9 50000 2001:db8::5 22')).to.include({
      client: '2001:db8::9',
      local: '2001:db8::5',
    });
  });
});

describe('observe/session: the session from the process tree (a /proc of saved files)', () => {
  let proc = '';
  const NET = 'net:[4026531840]';
  /** listener sshd 500 <- session sshd 600 (holds the connection) <- bash 700 <- sudo 800 <- oob 900 */
  async function proc_(o: { sessionNetns?: string; sessionComm?: string } = {}) {
    proc = await fsp.mkdtemp(path.join(os.tmpdir(), 'oob-proc-'));
    const mk = async (pid: number, comm: string, ppid: number, sockets: string[], net = NET) => {
      const d = path.join(proc, String(pid));
      await fsp.mkdir(path.join(d, 'fd'), { recursive: true });
      await fsp.mkdir(path.join(d, 'net'));
      await fsp.mkdir(path.join(d, 'ns'));
      await fsp.writeFile(path.join(d, 'stat'), `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560`);
      await fsp.symlink(net, path.join(d, 'ns', 'net'));
      await fsp.symlink('/dev/null', path.join(d, 'fd', '0'));
      for (const [i, s] of sockets.entries()) await fsp.symlink(s, path.join(d, 'fd', String(i + 3)));
      await fsp.writeFile(path.join(d, 'net', 'tcp'), TCP);
      await fsp.writeFile(path.join(d, 'net', 'tcp6'), TCP6);
    };
    await mk(500, 'sshd', 1, ['socket:[262709]']);
    await mk(
      600,
      o.sessionComm ?? 'sshd',
      500,
      ['pipe:[1]', 'socket:[999]', 'socket:[262714]', 'socket:[262716]'],
      o.sessionNetns ?? NET,
    );
    await mk(700, 'bash', 600, []);
    await mk(800, 'sudo', 700, ['socket:[262715]']);
    await mk(900, 'node', 800, []);
  }
  afterEach(async () => {
    if (proc) await fsp.rm(proc, { recursive: true, force: true });
  });

  it('walks up to the sshd holding an established connection, and reads the session from its socket (lowest descriptor first)', async () => {
    await proc_();
    expect(await sessionFromProcessTree({ pid: 900, proc, littleEndian: true })).to.deep.equal({
      session: {
        local: '10.99.0.5',
        localPort: 2222,
        client: '10.99.0.9',
        clientPort: 0x88a3,
        found: { by: 'sshd', pid: 600 },
      },
      sameNetns: true,
    });
    // SSH_CONNECTION gone (sudo), or lying (a stale one in tmux): the process tree wins
    expect(await observeSession({}, { pid: 900, proc })).to.include({ local: '10.99.0.5', client: '10.99.0.9' });
    expect(await observeSession({ SSH_CONNECTION: '198.51.100.1 1 198.51.100.2 22' }, { pid: 900, proc })).to.include({
      local: '10.99.0.5',
    });
  });
  it("finds OpenSSH 9.8's sshd-session too", async () => {
    await proc_({ sessionComm: 'sshd-session' });
    expect((await sessionFromProcessTree({ pid: 900, proc, littleEndian: true }))?.session.found).to.deep.equal({
      by: 'sshd',
      pid: 600,
    });
  });
  it('ignores a session in another network namespace (nothing moved here can cut it), and falls back on SSH_CONNECTION without sshd above', async () => {
    await proc_({ sessionNetns: 'net:[4026532999]' });
    expect((await sessionFromProcessTree({ pid: 900, proc, littleEndian: true }))?.sameNetns).to.equal(false);
    expect(await observeSession({ SSH_CONNECTION: '10.0.0.9 50000 10.0.0.5 22' }, { pid: 900, proc })).to.equal(
      undefined,
    );
    expect(
      await observeSession(
        { SSH_CONNECTION: '10.0.0.9 50000 10.0.0.5 22' },
        { pid: 700, proc: path.join(proc, 'nowhere') },
      ),
    ).to.include({ local: '10.0.0.5', client: '10.0.0.9' });
    expect(await observeSession({}, { pid: 800, proc: path.join(proc, 'nowhere') })).to.equal(undefined);
  });
});
