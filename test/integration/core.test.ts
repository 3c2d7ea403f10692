import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { failingTool, ipFailingAtLine, oobVia, readOnlyDir } from './faults.js';
import { ask, isRoot, Lab, linkFacts, listen, must, routeFacts, sh, snapshot, type Result } from './lab.js';

const PORT = 7007;

/** One clear line: "oob: ...", no stack trace. */
function oneClearLine(r: Result) {
  const lines = r.stderr.trim().split('\n');
  expect(lines[0], r.stderr).to.match(/^oob: /);
  expect(r.stderr).not.to.match(/^\s+at .*:\d+:\d+\)?$/m);
  return lines[0]!;
}

describe('integration: up, down, plan, exec on real namespaces', function () {
  let lab: Lab;
  before(function () {
    if (!isRoot()) {
      console.log(
        '    SKIPPED: the integration tests need root (they create network namespaces); CI runs them as root',
      );
      this.skip();
    }
  });
  beforeEach(async () => {
    lab = await Lab.create();
  });
  afterEach(async () => {
    await lab?.destroy();
    expect(await lab.namespaces(), 'the lab left namespaces behind').to.deep.equal([]);
  });

  /** Give the NIC a life of its own in the host before oob takes it. */
  async function configureHostNic() {
    await lab.inHost(
      ['ip', '-batch', '-'],
      [
        `link set dev ${lab.nic} mtu 1400 alias "spare port"`,
        `addr add 192.168.77.5/24 brd + dev ${lab.nic}`,
        `addr add 2001:db8:77::5/64 dev ${lab.nic} nodad`,
        `link set dev ${lab.nic} up`,
        `route add 172.16.99.0/24 via 192.168.77.1 dev ${lab.nic} metric 50`,
      ].join('\n') + '\n',
    );
  }
  const hostFacts = async () => {
    const s = await snapshot(lab.host);
    return {
      nic: linkFacts(s.links.find((l) => l.ifname === lab.nic)),
      routes: routeFacts(s.routes, lab.nic),
      links: s.links.map((l) => l.ifname).sort(),
    };
  };
  const exists = (f: string) =>
    fsp.stat(f).then(
      () => true,
      () => false,
    );
  const recordFile = () => path.join(lab.runtimeDir, lab.profile, 'nic.json');

  it('up then down: the NIC goes in configured, and comes back exactly as it was (name, addresses, MTU, alias, up, routes)', async () => {
    await configureHostNic();
    await lab.writeProfile(lab.seedProfile());
    const before = await hostFacts();
    expect(before.nic!.addrs).to.have.members(['192.168.77.5/24', '2001:db8:77::5/64']);

    const up = await lab.oob(['up', lab.profile]);
    expect(up.code, up.stderr).to.equal(0);
    expect(up.stdout).to.match(
      new RegExp(
        `^${lab.profile}: up: ${lab.nic} in namespace ${lab.profile}, 10\\.20\\.30\\.1/24, default via 10\\.20\\.30\\.20`,
      ),
    );
    const inHost = await snapshot(lab.host);
    expect(inHost.links.map((l) => l.ifname)).not.to.include(lab.nic);
    const ns = await snapshot(lab.profile);
    const nic = ns.links.find((l) => l.ifname === lab.nic)!;
    expect(nic.up).to.equal(true);
    expect(nic.alias).to.equal(`oob:${lab.profile}:${lab.nic}`);
    expect(nic.addrs.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`)).to.deep.equal([
      '10.20.30.1/24',
    ]);
    expect(ns.links.find((l) => l.ifname === 'lo')!.up).to.equal(true);
    expect(ns.routes.find((r) => r.dst === 'default' && r.table === 'main')).to.include({
      gateway: '10.20.30.20',
      dev: lab.nic,
    });
    expect(await fsp.readFile(`/etc/netns/${lab.profile}/resolv.conf`, 'utf8')).to.match(
      /^nameserver 10\.20\.30\.53$/m,
    );
    expect(JSON.parse(await fsp.readFile(recordFile(), 'utf8')).nic).to.include({
      name: lab.nic,
      mtu: 1400,
      up: true,
      alias: 'spare port',
    });
    // the way in works: the router answers the management address
    await listen(lab.router, '10.20.30.20', PORT, 'router');
    expect(await ask(lab.profile, '10.20.30.20', PORT)).to.equal('router');

    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
    expect(await lab.namespaces()).to.have.members([lab.host, lab.router]);
    expect(await exists(`/etc/netns/${lab.profile}`)).to.equal(false);
    expect(await exists(recordFile())).to.equal(false);
  });

  it('up is idempotent: a second run, and plan, change nothing and say so; down likewise', async () => {
    await lab.writeProfile(lab.seedProfile());
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    const ns1 = await snapshot(lab.profile);
    const again = await lab.oob(['up', lab.profile]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/already up, nothing to do/);
    const plan = await lab.oob(['plan', lab.profile]);
    expect(plan.stdout.trim()).to.equal(`# ${lab.profile}: nothing to do: everything is in place`);
    expect(linkFacts((await snapshot(lab.profile)).links.find((l) => l.ifname === lab.nic))).to.deep.equal(
      linkFacts(ns1.links.find((l) => l.ifname === lab.nic)),
    );
    expect((await lab.oob(['down', lab.profile])).stdout).to.match(/: down \(\d+ steps\)/);
    const down2 = await lab.oob(['down', lab.profile]);
    expect(down2.code).to.equal(0);
    expect(down2.stdout).to.match(/already down, nothing to do/);
  });

  it('up repairs drift: a removed address and route come back, nothing else is touched', async () => {
    await lab.writeProfile(lab.seedProfile());
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    await must(['ip', '-n', lab.profile, 'addr', 'flush', 'dev', lab.nic, 'scope', 'global']);
    const plan = await lab.oob(['plan', lab.profile]);
    expect(plan.stdout.split('\n').filter((l) => l.startsWith('ip '))).to.deep.equal([
      `ip -n ${lab.profile} addr add 10.20.30.1/24 brd + dev ${lab.nic}    # add address 10.20.30.1/24`,
      `ip -n ${lab.profile} route replace 0.0.0.0/0 via 10.20.30.20 dev ${lab.nic}    # default route via 10.20.30.20`,
    ]);
    const up = await lab.oob(['up', lab.profile]);
    expect(up.stdout).to.match(/\(2 steps\)/);
    await listen(lab.router, '10.20.30.20', PORT, 'router');
    expect(await ask(lab.profile, '10.20.30.20', PORT)).to.equal('router');
  });

  describe('rollback: a failure at any step leaves the host as it was', () => {
    const STEPS = 10; // record, netns add, mark, move, RAs off, lo up, link up, addr, route, dns
    const SYSCTL_STEP = 5;
    /** `up` with step k failing for real: the record's directory or /etc read-only (steps 1, 10: a private mount namespace), the sysctl refused (step 5), or an ip line refused. */
    async function failUpAtStep(k: number) {
      if (k === 1) {
        await fsp.mkdir(path.dirname(recordFile()), { recursive: true });
        return oobVia(lab, readOnlyDir(path.dirname(recordFile())), ['up', lab.profile]);
      }
      if (k === STEPS) return oobVia(lab, readOnlyDir('/etc'), ['up', lab.profile]);
      if (k === SYSCTL_STEP)
        return lab.oob(['up', lab.profile], {
          PATH: `${await failingTool(lab, 'sysctl', 'accept_ra')}:${process.env.PATH}`,
        });
      const line = k < SYSCTL_STEP ? k - 1 : k - 2;
      return lab.oob(['up', lab.profile], { PATH: `${await ipFailingAtLine(lab, line)}:${process.env.PATH}` });
    }
    it(`the plan has ${STEPS} steps`, async () => {
      await configureHostNic();
      await lab.writeProfile(lab.seedProfile());
      const plan = await lab.oob(['plan', lab.profile]);
      expect(plan.stdout.split('\n').filter((l) => l && !l.startsWith('#'))).to.have.length(STEPS);
    });
    for (let k = 1; k <= STEPS; k++) {
      it(`step ${k} fails: exit 10, one line, the NIC back with its host state, no namespace, no record, no DNS file`, async () => {
        await configureHostNic();
        await lab.writeProfile(lab.seedProfile());
        const before = await hostFacts();
        const r = await failUpAtStep(k);
        expect(r.code, r.stderr).to.equal(10);
        expect(oneClearLine(r)).to.match(
          /failed .*rolled back the \d+ step\(s\) already done: the system is as before/,
        );
        expect(oneClearLine(r), `the step failed for the reason made for it: ${r.stderr}`).to.match(
          k === 1
            ? /read-only file system/i
            : k === STEPS
              ? /read-only file system|no such file or directory, mkdir '\/etc\/netns/i
              : k === SYSCTL_STEP
                ? /injected failure/
                : /oob-fault-injected/,
        );
        expect(await hostFacts()).to.deep.equal(before);
        expect(await lab.namespaces()).to.have.members([lab.host, lab.router]);
        expect(await exists(recordFile())).to.equal(false);
        expect(await exists(`/etc/netns/${lab.profile}`)).to.equal(false);
        // the runtime directory too, unless the test made it (step 1: to make it read-only)
        if (k > 1) expect(await exists(path.dirname(recordFile())), 'no empty runtime directory left').to.equal(false);
      });
    }
  });

  describe('the lock-out guard', () => {
    beforeEach(async () => {
      await lab.inHost(['ip', '-batch', '-'], `addr add 10.99.0.5/24 dev ${lab.nic}\nlink set dev ${lab.nic} up\n`);
      await lab.writeProfile(lab.seedProfile());
    });
    it("refuses to move the NIC that carries the host's default route (exit 8), changing nothing; --force overrides, and down restores the route", async () => {
      await lab.inHost(['ip', 'route', 'add', 'default', 'via', '10.99.0.1', 'dev', lab.nic]);
      const before = await hostFacts();
      const r = await lab.oob(['up', lab.profile]);
      expect(r.code).to.equal(8);
      expect(oneClearLine(r)).to.match(
        new RegExp(`refusing to move ${lab.nic}: ${lab.nic} carries the host's IPv4 default route`),
      );
      expect(r.stderr).to.match(/--force/);
      expect(await hostFacts()).to.deep.equal(before);
      expect(await lab.namespaces()).not.to.include(lab.profile);
      const forced = await lab.oob(['up', '--force', lab.profile]);
      expect(forced.code, forced.stderr).to.equal(0);
      expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
      expect(await hostFacts()).to.deep.equal(before);
    });
    it("refuses to move the NIC that holds the local address of the caller's SSH session", async () => {
      const r = await lab.oob(['up', lab.profile], { SSH_CONNECTION: '10.99.0.9 50000 10.99.0.5 22' });
      expect(r.code).to.equal(8);
      expect(oneClearLine(r)).to.match(/local address of your SSH session/);
      expect(await lab.namespaces()).not.to.include(lab.profile);
      const other = await lab.oob(['up', lab.profile], { SSH_CONNECTION: '127.0.0.1 50000 127.0.0.1 22' });
      expect(other.code, other.stderr).to.equal(0);
    });
  });

  it('duplicate addressing (the seed): the same gateway address reaches two different peers depending on the namespace', async () => {
    const data = await lab.addNs('d');
    await must(['ip', '-n', lab.host, 'link', 'add', 'dat0', 'type', 'veth', 'peer', 'name', 'd0', 'netns', data]);
    await lab.inHost(['ip', '-batch', '-'], 'addr add 10.20.30.1/24 dev dat0\nlink set dat0 up\n');
    await must(['ip', '-n', data, '-batch', '-'], 'link set lo up\naddr add 10.20.30.20/24 dev d0\nlink set d0 up\n');
    await lab.writeProfile(lab.seedProfile());
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    await listen(lab.router, '10.20.30.20', PORT, 'management LAN');
    await listen(data, '10.20.30.20', PORT, 'data LAN');
    expect(await ask(lab.host, '10.20.30.20', PORT)).to.equal('data LAN');
    expect(await ask(lab.profile, '10.20.30.20', PORT)).to.equal('management LAN');
  });

  it("adopts the NIC's host addresses and gateway when the profile has none, and gives them back on down", async () => {
    await must(['ip', '-n', lab.host, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1']);
    await lab.inHost(
      ['ip', '-batch', '-'],
      [
        'addr add 192.0.2.2/24 dev up0',
        'link set up0 up',
        'link set up1 up',
        'route add default via 192.0.2.1 metric 100',
        `addr add 10.20.30.1/24 dev ${lab.nic}`,
        `link set ${lab.nic} up`,
        `route add default via 10.20.30.20 dev ${lab.nic} metric 500`,
      ].join('\n') + '\n',
    );
    await lab.writeProfile(`[interface]\nnic = ${lab.nic}\n`);
    const before = await hostFacts();
    const up = await lab.oob(['up', lab.profile]);
    expect(up.code, up.stderr).to.equal(0);
    expect(up.stderr).to.match(/adopting .*10\.20\.30\.1\/24, gateway 10\.20\.30\.20/);
    await listen(lab.router, '10.20.30.20', PORT, 'router');
    expect(await ask(lab.profile, '10.20.30.20', PORT)).to.equal('router');
    expect((await lab.oob(['up', lab.profile])).stdout).to.match(/nothing to do/);
    expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('down stops what still runs inside, and works from the record even when the profile is gone', async () => {
    await lab.writeProfile(lab.seedProfile());
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    const sleeper = spawn('ip', ['netns', 'exec', lab.profile, 'sleep', '300'], { detached: true, stdio: 'ignore' });
    sleeper.unref();
    for (let i = 0; i < 50 && !(await sh(['ip', 'netns', 'pids', lab.profile])).stdout.trim(); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await sh(['ip', 'netns', 'pids', lab.profile])).stdout.trim()).not.to.equal('');
    await fsp.rm(path.join(lab.profileDir, `${lab.profile}.ini`));
    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await lab.namespaces()).not.to.include(lab.profile);
    expect((await snapshot(lab.host)).links.map((l) => l.ifname)).to.include(lab.nic);
    expect(() => process.kill(sleeper.pid!, 0)).to.throw();
  });

  it('exec runs a command inside the namespace and exits with its status', async () => {
    await lab.writeProfile(lab.seedProfile());
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    const r = await lab.oob(['exec', lab.profile, '--', 'ip', '-br', 'addr', 'show', 'dev', lab.nic]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/10\.20\.30\.1\/24/);
    expect((await lab.oob(['exec', lab.profile, '--', 'sh', '-c', 'exit 7'])).code).to.equal(7);
    const resolv = await lab.oob(['exec', lab.profile, '--', 'cat', '/etc/resolv.conf']);
    expect(resolv.stdout).to.match(/nameserver 10\.20\.30\.53/);
  });

  it('two oob processes on the same profile never interleave: one does the work, the other finds nothing to do', async () => {
    await lab.writeProfile(lab.seedProfile());
    const [a, b] = await Promise.all([lab.oob(['up', lab.profile]), lab.oob(['up', lab.profile])]);
    expect([a.code, b.code], a.stderr + b.stderr).to.deep.equal([0, 0]);
    const outs = [a.stdout, b.stdout].sort();
    expect(outs[0]).to.match(/already up, nothing to do/);
    expect(outs[1]).to.match(/: up: .*\(10 steps\)/);
  });

  describe('bad input: one clear line, a distinct exit code, nothing changed', () => {
    let before: Awaited<ReturnType<typeof hostFacts>>;
    beforeEach(async () => {
      await configureHostNic();
      before = await hostFacts();
    });
    afterEach(async () => {
      expect(await hostFacts()).to.deep.equal(before);
      expect(await lab.namespaces()).not.to.include(lab.profile);
    });
    const cases: Array<[string, number, RegExp, (l: Lab) => Promise<NodeJS.ProcessEnv | void>]> = [
      [
        'a gateway outside the subnet',
        3,
        /\.ini:4: \[interface\] gateway: 192\.168\.1\.1 is outside every configured subnet/,
        async (l) => {
          await l.writeProfile(l.seedProfile().replace('gateway = 10.20.30.20', 'gateway = 192.168.1.1'));
        },
      ],
      [
        'an unknown key',
        3,
        /\[interface\] adress: unknown key: did you mean "address"\?/,
        async (l) => {
          await l.writeProfile(`[interface]\nnic = ${l.nic}\nadress = 10.20.30.1/24\n`);
        },
      ],
      [
        'an empty profile',
        3,
        /the profile is empty/,
        async (l) => {
          await l.writeProfile('');
        },
      ],
      [
        'a missing profile (the ones that exist are listed)',
        4,
        /no profile ".*": .* does not exist; profiles in .*: other/,
        async (l) => {
          await l.writeProfile(l.seedProfile(), { name: 'other' });
        },
      ],
      [
        'a world-writable profile',
        5,
        /writable by everyone .*chmod go-w/,
        async (l) => {
          await l.writeProfile(l.seedProfile(), { mode: 0o666 });
        },
      ],
      [
        'a missing NIC',
        7,
        /nosuchnic0 was not found in the host namespace/,
        async (l) => {
          await l.writeProfile(l.seedProfile().replace(`nic = ${l.nic}`, 'nic = nosuchnic0'));
        },
      ],
      [
        'a NIC already in another namespace',
        7,
        /is in another network namespace, oobt-.*-x \(as mover0\)/,
        async (l) => {
          const x = await l.addNs('x');
          await must(['ip', '-n', x, 'link', 'add', 'mover0', 'type', 'veth', 'peer', 'name', 'mover1']);
          await l.writeProfile(l.seedProfile().replace(`nic = ${l.nic}`, 'nic = mover0'));
        },
      ],
      [
        'a namespace of that name that oob did not create',
        7,
        /exists that oob did not create/,
        async (l) => {
          await l.writeProfile(l.seedProfile());
          await must(['ip', 'netns', 'add', l.profile]);
        },
      ],
      [
        'ip missing',
        6,
        /ip is not installed .*apt-get install iproute2/,
        async (l) => {
          await l.writeProfile(l.seedProfile());
          return { PATH: '/nonexistent' };
        },
      ],
    ];
    for (const [what, code, msg, setup] of cases) {
      it(`${what}: exit ${code}`, async () => {
        const env = (await setup(lab)) ?? {};
        const r = await lab.oob(['up', lab.profile], env);
        expect(r.code, r.stderr).to.equal(code);
        expect(oneClearLine(r)).to.match(msg);
        if (what.startsWith('a namespace of that name')) await must(['ip', 'netns', 'del', lab.profile]);
      });
    }
    it('not root: exit 5', async () => {
      await lab.writeProfile(lab.seedProfile());
      const r = await sh(
        [
          'nsenter',
          `--net=/run/netns/${lab.host}`,
          '--',
          'setpriv',
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          new URL('../../src/cli.js', import.meta.url).pathname,
          'up',
          lab.profile,
        ],
        { env: lab.env() },
      );
      expect(r.code, r.stderr).to.equal(5);
      expect(oneClearLine(r)).to.match(/must run as root/);
    });
    it('a bad command line: exit 2', async () => {
      const r = await lab.oob(['up']);
      expect(r.code).to.equal(2);
      expect(oneClearLine(r)).to.match(/Not enough non-option arguments/);
    });
  });
});
