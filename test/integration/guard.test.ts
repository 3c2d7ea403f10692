// The lock-out guard against every way the host's traffic uses the NIC, on real namespaces: a
// default route in a policy-routed table, the NIC as a bridge port, a real SSH session whose
// SSH_CONNECTION is gone, IPv4-mapped addresses, and OOB_FORCE logged whenever it overrides.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { banner, CLI, Lab, must, needSshd, sh, snapshot, waitFor, type Result } from './lab.js';

describe('integration: the lock-out guard sees every way in', function () {
  let lab: Lab;
  needSshd('the lock-out guard tests');
  beforeEach(async () => {
    lab = await Lab.create();
    // the NIC is in use in the host: an address, up; the router answers on its subnet
    await lab.inHost(['ip', '-batch', '-'], `addr add 10.99.0.5/24 dev ${lab.nic}\nlink set dev ${lab.nic} up\n`);
    await must(['ip', '-n', lab.router, 'addr', 'add', '10.99.0.9/24', 'dev', 'r0']);
    await lab.writeProfile(lab.seedProfile());
  });
  afterEach(async () => {
    await lab?.destroy();
    expect(await lab.namespaces(), 'the lab left namespaces behind').to.deep.equal([]);
  });

  /** Everything `up` could change in the host: links (with addresses, masters), routes of every table, rules. */
  const hostState = async () => {
    const s = await snapshot(lab.host);
    const rules = await lab.inHost(['ip', '-j', 'rule', 'show']);
    // (IPv6 link-local addresses and their routes come and go by themselves: left out)
    const linkLocal = (ip: string) => /^f[ef][0-9a-f]{2}:/i.test(ip);
    return {
      links: s.links.map((l) => ({
        name: l.ifname,
        up: l.up,
        master: l.master ?? null,
        alias: l.alias ?? null,
        addrs: l.addrs
          .filter((a) => a.scope !== 'link')
          .map((a) => a.local)
          .sort(),
      })),
      routes: s.routes
        .filter((r) => !linkLocal(r.dst))
        .map(
          (r) => `${r.table} ${r.type} ${r.dst} via ${r.gateway ?? '-'} dev ${r.dev ?? '-'} metric ${r.metric ?? '-'}`,
        )
        .sort(),
      rules,
    };
  };
  /** exit 8, one line naming the reason, the namespace never made, the host as it was. */
  async function refused(r: Result, before: Awaited<ReturnType<typeof hostState>>, reason: RegExp) {
    expect(r.code, r.stderr).to.equal(8);
    const first = r.stderr.trim().split('\n')[0]!;
    expect(first).to.match(new RegExp(`^oob: refusing to move ${lab.nic}: `));
    expect(r.stderr).to.match(reason);
    expect(r.stderr).not.to.match(/^\s+at .*:\d+:\d+\)?$/m);
    expect(await lab.namespaces()).not.to.include(lab.profile);
    expect(await hostState()).to.deep.equal(before);
  }

  it("refuses a NIC whose default route lives in a policy-routed table (from <the host's address> lookup 100)", async () => {
    // the host's own uplink up0 (192.0.2.2) carries table main's default; traffic from 192.0.2.2 is
    // sent by rule 100 to table 100, whose default leaves through the NIC
    await lab.inHost(
      ['ip', '-batch', '-'],
      [
        'link add up0 type veth peer name up1',
        'addr add 192.0.2.2/24 dev up0',
        'link set up0 up',
        'link set up1 up',
        'route add default via 192.0.2.1 dev up0',
        `route add default via 10.99.0.1 dev ${lab.nic} table 100`,
        'rule add from 192.0.2.2 lookup 100 pref 100',
      ].join('\n') + '\n',
    );
    const before = await hostState();
    await refused(
      await lab.oob(['up', lab.profile]),
      before,
      new RegExp(
        `${lab.nic} carries the IPv4 default route of table 100 \\(default via 10\\.99\\.0\\.1 dev ${lab.nic} table 100\\), where rule 100: from 192\\.0\\.2\\.2/32 lookup 100 sends the host's traffic`,
      ),
    );
    // the NIC's own source routing is not a reason: with the rule for its own address, it goes
    await lab.inHost(['ip', '-batch', '-'], 'rule del pref 100\nrule add from 10.99.0.5 lookup 100 pref 100\n');
    const ok = await lab.oob(['up', lab.profile]);
    expect(ok.code, ok.stderr).to.equal(0);
  });

  it('refuses a NIC enslaved to a bridge that carries the default route', async () => {
    await lab.inHost(
      ['ip', '-batch', '-'],
      [
        `addr flush dev ${lab.nic}`,
        'link add br0 type bridge',
        `link set dev ${lab.nic} master br0`,
        'link set br0 up',
        'addr add 10.99.0.5/24 dev br0',
        'route add default via 10.99.0.9 dev br0',
      ].join('\n') + '\n',
    );
    const before = await hostState();
    await refused(
      await lab.oob(['up', lab.profile]),
      before,
      new RegExp(
        `${lab.nic} is a port of bridge br0, which carries the host's IPv4 default route \\(default via 10\\.99\\.0\\.9 dev br0\\)`,
      ),
    );
  });

  it('compares IPv4-mapped addresses in SSH_CONNECTION as IPv4', async () => {
    const before = await hostState();
    await refused(
      await lab.oob(['up', lab.profile], { SSH_CONNECTION: '::ffff:10.99.0.9 50000 ::ffff:10.99.0.5 22' }),
      before,
      new RegExp(
        `${lab.nic} holds 10\\.99\\.0\\.5, the local address of your SSH session \\(SSH_CONNECTION, from 10\\.99\\.0\\.9 port 50000\\)`,
      ),
    );
  });

  describe('a real SSH session without SSH_CONNECTION (as under sudo)', () => {
    let sshd: ChildProcess | undefined;
    afterEach(() => {
      sshd?.kill('SIGKILL');
      sshd = undefined;
    });

    it("refuses (exit 8) from inside the session, naming it, found from the process tree and sshd's socket", async () => {
      await lab.makeHostKey();
      const key = path.join(lab.dir, 'client');
      await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key]);
      await fsp.writeFile(path.join(lab.dir, 'authorized_keys'), await fsp.readFile(`${key}.pub`), { mode: 0o600 });
      let log = '';
      sshd = spawn(
        'nsenter',
        [
          `--net=/run/netns/${lab.host}`,
          '--',
          '/usr/sbin/sshd',
          '-D',
          '-e',
          '-f',
          '/dev/null',
          '-o',
          `HostKey=${lab.hostKey}`,
          '-o',
          'ListenAddress=10.99.0.5',
          '-o',
          'Port=22',
          '-o',
          `AuthorizedKeysFile=${path.join(lab.dir, 'authorized_keys')}`,
          '-o',
          'StrictModes=no',
          '-o',
          'PidFile=none',
          '-o',
          'PermitRootLogin=prohibit-password',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      sshd.stderr!.on('data', (d) => (log += d));
      await waitFor(
        'sshd to answer on 10.99.0.5:22',
        async () => /^SSH-2\.0/.test(await banner(lab.router, '10.99.0.5', 22)),
        15_000,
      );
      const before = await hostState();
      // inside the session: no SSH_CONNECTION, and oob from the test's tree with the lab's directories
      const remote = [
        'env',
        '-u',
        'SSH_CONNECTION',
        `OOB_PROFILE_DIR=${lab.profileDir}`,
        `OOB_RUNTIME_DIR=${lab.runtimeDir}`,
        process.execPath,
        CLI,
        'up',
        lab.profile,
      ].join(' ');
      const r = await sh([
        'nsenter',
        `--net=/run/netns/${lab.router}`,
        '--',
        'timeout',
        '60',
        'ssh',
        '-F',
        '/dev/null',
        '-i',
        key,
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'ServerAliveInterval=2',
        '-o',
        'ServerAliveCountMax=3',
        '-o',
        'LogLevel=ERROR',
        'root@10.99.0.5',
        remote,
      ]);
      // (before the guard saw the session, oob moved the NIC and cut it: ssh's own exit 255)
      expect(r.code, `${r.stderr}\nsshd: ${log}`).to.equal(8);
      await refused(
        r,
        before,
        new RegExp(
          `${lab.nic} holds 10\\.99\\.0\\.5, the local address of your SSH session \\(sshd pid \\d+, from 10\\.99\\.0\\.9 port \\d+\\)`,
        ),
      );
    });
  });

  it('reads the session of a dual-stack server from its tcp6 row (::ffff:10.99.0.5) as IPv4', async () => {
    // A server named sshd (comm is the name it was started by) listening on [::]:2222, dual-stack,
    // that runs oob for each connection: an IPv4 client shows in /proc/net/tcp6 as IPv4-mapped.
    const fake = path.join(lab.dir, 'sshd');
    await fsp.symlink(process.execPath, fake);
    const code = `const net=require('net'),{spawn}=require('child_process');const [cli,pd,rd,name]=process.argv.slice(1);
      net.createServer((c)=>{const env={...process.env,OOB_PROFILE_DIR:pd,OOB_RUNTIME_DIR:rd};delete env.SSH_CONNECTION;
        const p=spawn(process.execPath,[cli,'up',name],{env,stdio:['ignore','pipe','pipe']});let out='';
        p.stdout.on('data',(d)=>out+=d);p.stderr.on('data',(d)=>out+=d);p.on('close',(code)=>c.end(JSON.stringify({code,out})));
      }).listen(2222,'::',()=>console.log('listening'));`;
    // (nsenter execs the server: server.pid is the "sshd" that oob must name)
    const server = spawn(
      'nsenter',
      [`--net=/run/netns/${lab.host}`, '--', fake, '-e', code, CLI, lab.profileDir, lab.runtimeDir, lab.profile],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        server.stdout!.once('data', () => resolve());
        server.once('exit', (c) => reject(new Error(`the dual-stack server exited (${c})`)));
      });
      const before = await hostState();
      const client = `const s=require('net').connect(2222,'10.99.0.5');let b='';s.setTimeout(60000,()=>{process.stdout.write('TIMEOUT');process.exit(0)});s.on('data',(d)=>b+=d);s.on('end',()=>process.stdout.write(b));s.on('error',(e)=>process.stdout.write(e.code))`;
      const got = (await sh(['nsenter', `--net=/run/netns/${lab.router}`, '--', process.execPath, '-e', client]))
        .stdout;
      const r = JSON.parse(got) as { code: number; out: string };
      await refused(
        { code: r.code, stdout: '', stderr: r.out },
        before,
        new RegExp(
          `${lab.nic} holds 10\\.99\\.0\\.5, the local address of your SSH session \\(sshd pid ${server.pid}, from 10\\.99\\.0\\.9 port \\d+\\)`,
        ),
      );
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('OOB_FORCE=1 (a profile enabled with --force) overrides the guard, and the supervisor logs each reason it overrode', async () => {
    await lab.inHost(['ip', 'route', 'add', 'default', 'via', '10.99.0.9', 'dev', lab.nic]);
    const start = await lab.oob(['start', lab.profile], { OOB_FORCE: '1' });
    try {
      expect(start.code, start.stderr).to.equal(0);
      const log = await fsp.readFile(path.join(lab.runtimeDir, lab.profile, 'supervisor.log'), 'utf8');
      expect(log).to.match(
        new RegExp(
          `warning: OOB_FORCE=1 in the environment overrides the lock-out guard: ${lab.nic} carries the host's IPv4 default route \\(default via 10\\.99\\.0\\.9 dev ${lab.nic}\\)`,
        ),
      );
    } finally {
      const stop = await lab.oob(['stop', lab.profile]);
      expect(stop.code, stop.stderr).to.equal(0);
    }
    // without it, the same start is refused
    const refusedStart = await lab.oob(['start', lab.profile]);
    expect(refusedStart.code, refusedStart.stderr).to.equal(8);
  });
});
