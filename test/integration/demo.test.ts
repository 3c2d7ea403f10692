import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLI, isRoot, Lab } from './lab.js';

describe('integration: oob demo (inside a throw-away host namespace)', function () {
  let lab: Lab;
  before(async function () {
    if (!isRoot()) {
      console.log('    SKIPPED: oob demo needs root');
      this.skip();
    }
    lab = await Lab.create();
  });
  after(async () => {
    await lab?.oob(['demo', '--cleanup']);
    await lab?.destroy();
  });

  it('shows the same address answering from two LANs, is idempotent, and removes everything', async () => {
    const hadPrivsep = existsSync('/run/sshd');
    const r = await lab.oob(['demo']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/from namespace oobdemo: hello from the MANAGEMENT LAN/);
    expect(r.stdout).to.match(/from the host: +hello from the DATA LAN/);
    expect(r.stdout).to.match(/oob up oobdemo again: nothing to do \(idempotent\)/);
    expect(r.stdout).to.match(/ip link set dev oobdemo0 netns oobdemo/);
    // the management plane as an admin meets it: a real ssh login through the management LAN
    expect(r.stdout).to.match(/^\s+\[service\.sshd\]\n\s+preset = sshd$/m);
    expect(r.stdout).to.match(
      /ssh root@10\.20\.30\.1\n\s+logged in as root; this shell's network namespace: oobdemo$/m,
    );
    expect(r.stdout).to.match(
      /kill -9 the sshd copy \(pid (\d+)\)[^\n]*\n\s+the supervisor restarted it: pid (?!\1\b)\d+, \d+ ms later \(restarts: 1\)\n\s+logged in again: oobdemo$/m,
    );
    expect(r.stdout).to.match(/==> oob status oobdemo\n\s+oobdemo\s+OK\b/);
    expect(r.stdout).to.match(/service\s+sshd\s+ready\s+pid \d+/);
    expect(r.stdout).to.match(/stopped its supervisor and sshd copy/);
    // the second half: the host reaches the management LAN through the namespace (masqueraded out
    // of its NIC), and the management LAN reaches a host-only service through the port forward
    expect(r.stdout).to.match(
      /from the host: TCP to 10\.20\.40\.10:7007, a server on the management LAN\n\s+hello from the MANAGEMENT LAN \(you came from 10\.20\.30\.1\)$/m,
    );
    expect(r.stdout).to.match(
      /TCP to 10\.20\.30\.1:7008, the port forward\n\s+hello from the HOST's own service \(you came from 10\.20\.31\.1\)$/m,
    );
    expect(r.stdout).to.match(/^\s+ip route replace 10\.20\.40\.0\/24 via 10\.20\.31\.1 proto 79$/m);
    const host = await lab.inHost(['ip', '-o', 'link']);
    expect(host).not.to.match(/oobdemo/);
    expect(await lab.inHost(['ip', 'route'])).not.to.match(/10\.20\.40\.0/);
    expect(existsSync('/run/sshd'), 'the demo leaves /run/sshd as it found it').to.equal(hadPrivsep);
    const { stdout } = await lab.oob(['demo', '--cleanup']);
    expect(stdout.trim()).to.equal('no demo to remove');
    expect((await import('node:fs')).existsSync('/run/netns/oobdemo')).to.equal(false);
  });

  it('Ctrl-C in the middle (once the supervisor runs): the demo stops after that step and removes everything, supervisor included', async () => {
    const c = spawn('/usr/bin/nsenter', [`--net=/run/netns/${lab.host}`, '--', process.execPath, CLI, 'demo'], {
      env: lab.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => {
      out += d;
      if (/supervisor pid \d+/.test(out) && !c.killed) c.kill('SIGINT');
    });
    c.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number>((r) => c.on('close', (x) => r(x ?? 128)));
    expect(out).to.match(/==> SIGINT: stopping after this step, then cleaning up/);
    expect(out).to.match(/cleanup after the failure: brought oobdemo down, .*stopped its supervisor and sshd copy/);
    expect(out).to.not.match(/==> oob status/);
    expect(err).to.match(/^oob: interrupted by SIGINT: everything the demo set up was removed$/m);
    expect(code).to.equal(10);
    expect((await import('node:fs')).existsSync('/run/netns/oobdemo')).to.equal(false);
    expect((await lab.oob(['demo', '--cleanup'])).stdout.trim()).to.equal('no demo to remove');
  });

  it('--keep leaves it for exploring, and --cleanup removes it later', async () => {
    const r = await lab.oob(['demo', '--keep']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/kept for exploring/);
    expect((await import('node:fs')).existsSync('/run/netns/oobdemo')).to.equal(true);
    const c = await lab.oob(['demo', '--cleanup']);
    expect(c.code, c.stderr).to.equal(0);
    expect(c.stdout).to.match(
      /demo removed: brought oobdemo down, deleted namespace oobdemo-lan, deleted namespace oobdemo-data/,
    );
    expect((await import('node:fs')).existsSync('/run/netns/oobdemo')).to.equal(false);
  });
});
