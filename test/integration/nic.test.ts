// Never lose the NIC, never configure the wrong link: down stops where the way back is blocked
// (and says what is left), a changed profile converges, restore is exact, admins' files are theirs.
import { expect } from 'chai';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ipFailingOnLine } from './faults.js';
import { ask, isRoot, Lab, linkFacts, listen, must, routeFacts, sh, snapshot } from './lab.js';

const PORT = 7008;

describe('integration: the NIC is never lost and never wrong', function () {
  let lab: Lab;
  before(function () {
    if (!isRoot()) {
      console.log('    SKIPPED: the integration tests need root (they create network namespaces)');
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

  async function configureHostNic() {
    await lab.inHost(
      ['ip', '-batch', '-'],
      [
        `link set dev ${lab.nic} mtu 1400 alias "spare port"`,
        `addr add 192.168.77.5/24 brd + dev ${lab.nic}`,
        `addr add 192.168.78.5/24 brd 192.168.78.127 dev ${lab.nic} noprefixroute`,
        `addr add 2001:db8:77::5/64 dev ${lab.nic} nodad`,
        `link set dev ${lab.nic} up`,
        `route add 172.16.99.0/24 via 192.168.77.1 dev ${lab.nic} metric 50`,
      ].join('\n') + '\n',
    );
  }
  /** What down must restore, flags and broadcast included. */
  const hostFacts = async () => {
    const s = await snapshot(lab.host);
    const nic = s.links.find((l) => l.ifname === lab.nic);
    return {
      nic: linkFacts(nic),
      flags: nic?.addrs
        .filter((a) => a.scope !== 'link')
        .map((a) => `${a.local} ${a.broadcast ?? '-'} ${(a.flags ?? []).join(',')}`)
        .sort(),
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
  const mark = () => `oob:${lab.profile}:${lab.nic}`;
  const firstLine = (s: string) => s.trim().split('\n')[0]!;

  it('restores address flags and broadcast exactly (noprefixroute, nodad, a broadcast of its own)', async () => {
    await configureHostNic();
    await lab.writeProfile(lab.seedProfile());
    const before = await hostFacts();
    expect(before.flags).to.include('192.168.78.5 192.168.78.127 noprefixroute');
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
  });

  it('a bridge port comes back a port of its bridge', async () => {
    const br = `${lab.nic}br`;
    await lab.inHost(
      ['ip', '-batch', '-'],
      `link add ${br} type bridge\nlink set dev ${lab.nic} master ${br}\nlink set dev ${lab.nic} up\n`,
    );
    await lab.writeProfile(lab.seedProfile());
    const master = async () => (await snapshot(lab.host)).links.find((l) => l.ifname === lab.nic)?.master;
    expect(await master()).to.equal(br);
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await master()).to.equal(br);
  });

  it('down stops at a name clash: the NIC comes back under a free name, the impostor is untouched, the record kept; once the name is free, down finishes', async () => {
    await configureHostNic();
    await lab.writeProfile(lab.seedProfile());
    const before = await hostFacts();
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    // another link takes the NIC's name in the host while it is away
    await lab.inHost(['ip', 'link', 'add', lab.nic, 'type', 'veth', 'peer', 'name', `${lab.nic}p`]);
    const impostor = linkFacts((await snapshot(lab.host)).links.find((l) => l.ifname === lab.nic));

    for (let i = 0; i < 2; i++) {
      const down = await lab.oob(['down', lab.profile]);
      expect(down.code, down.stderr).to.equal(11);
      expect(firstLine(down.stderr)).to.match(
        new RegExp(
          `^oob: ${lab.profile}: ${lab.nic} is back in the host as oobret\\d+, not under its own name: the name ${lab.nic} is taken by another link .*record is kept`,
        ),
      );
      const s = await snapshot(lab.host);
      const back = s.links.filter((l) => l.alias === mark());
      expect(
        back.map((l) => l.mac),
        'the NIC is in the host, marked',
      ).to.deep.equal([before.nic!.mac]);
      expect(back[0]!.ifname).to.match(/^oobret\d+$/);
      expect(linkFacts(s.links.find((l) => l.ifname === lab.nic)), 'nothing was applied to the impostor').to.deep.equal(
        impostor,
      );
      expect(await exists(recordFile()), 'the record is kept').to.equal(true);
      expect(await lab.namespaces()).not.to.include(lab.profile);
    }

    await lab.inHost(['ip', 'link', 'del', lab.nic]);
    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
    expect(await exists(recordFile())).to.equal(false);
  });

  it('a NIC moved elsewhere by hand: down deletes nothing, keeps the record and says where it is; once it is back, down restores it', async () => {
    await configureHostNic();
    await lab.writeProfile(lab.seedProfile());
    const before = await hostFacts();
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    const x = await lab.addNs('x');
    await must(['ip', '-n', lab.profile, 'link', 'set', 'dev', lab.nic, 'netns', x]);

    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(11);
    expect(firstLine(down.stderr), down.stderr).to.match(
      new RegExp(
        `${lab.nic} .* is neither in namespace ${lab.profile} nor in the host; it is in namespace ${x} \\(as ${lab.nic}\\).*record is kept`,
      ),
    );
    expect(await lab.namespaces()).to.include(lab.profile);
    expect(await exists(recordFile())).to.equal(true);
    expect(await exists(`/etc/netns/${lab.profile}/resolv.conf`)).to.equal(true);

    await must(['ip', '-n', x, 'link', 'set', 'dev', lab.nic, 'netns', lab.host]);
    const again = await lab.oob(['down', lab.profile]);
    expect(again.code, again.stderr).to.equal(0);
    expect(await hostFacts()).to.deep.equal(before);
    expect(await lab.namespaces()).not.to.include(lab.profile);
    expect(await exists(recordFile())).to.equal(false);
  });

  it("an admin's own /etc/netns/NAME/resolv.conf is never overwritten nor deleted", async () => {
    const admin = '# mine\nnameserver 192.0.2.53\n';
    await fsp.mkdir(`/etc/netns/${lab.profile}`, { recursive: true });
    await fsp.writeFile(`/etc/netns/${lab.profile}/resolv.conf`, admin);
    await lab.writeProfile(lab.seedProfile());
    const up = await lab.oob(['up', lab.profile]);
    expect(up.code, up.stderr).to.equal(7);
    expect(firstLine(up.stderr)).to.match(/resolv\.conf exists and oob did not write it: oob will not overwrite/);
    expect(await lab.namespaces()).not.to.include(lab.profile);
    // without [dns], up and down leave it as it is
    await lab.writeProfile(lab.seedProfile().replace(/\[dns\][^]*$/, ''));
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
    expect(await fsp.readFile(`/etc/netns/${lab.profile}/resolv.conf`, 'utf8')).to.equal(admin);
  });

  it('a changed profile converges on up: address in the same subnet, then another subnet, gateway, MTU, DNS; always with the default route', async () => {
    await must(
      ['ip', '-n', lab.router, '-batch', '-'],
      'addr add 10.20.30.21/24 dev r0\naddr add 10.20.31.20/24 dev r0\n',
    );
    await lab.writeProfile(lab.seedProfile());
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    await listen(lab.router, '0.0.0.0', PORT, 'router');
    const state = async () => {
      const s = await snapshot(lab.profile);
      const nic = s.links.find((l) => l.ifname === lab.nic)!;
      return {
        addrs: nic.addrs.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`),
        mtu: nic.mtu,
        def: s.routes.filter((r) => r.dst === 'default' && r.table === 'main').map((r) => `${r.gateway} ${r.dev}`),
      };
    };
    const cases: Array<[string, string, { addrs: string[]; mtu: number; def: string[] }, string]> = [
      [
        'address, same subnet',
        lab.seedProfile().replace('10.20.30.1/24', '10.20.30.2/24'),
        { addrs: ['10.20.30.2/24'], mtu: 1500, def: [`10.20.30.20 ${lab.nic}`] },
        '10.20.30.20',
      ],
      [
        'address and gateway, another subnet',
        lab
          .seedProfile()
          .replace('10.20.30.1/24', '10.20.31.1/24')
          .replace('gateway = 10.20.30.20', 'gateway = 10.20.31.20'),
        { addrs: ['10.20.31.1/24'], mtu: 1500, def: [`10.20.31.20 ${lab.nic}`] },
        '10.20.31.20',
      ],
      [
        'gateway and MTU',
        lab.seedProfile().replace('gateway = 10.20.30.20', 'gateway = 10.20.30.21\nmtu = 1280'),
        { addrs: ['10.20.30.1/24'], mtu: 1280, def: [`10.20.30.21 ${lab.nic}`] },
        '10.20.30.21',
      ],
    ];
    for (const [what, text, want, peer] of cases) {
      await lab.writeProfile(text);
      const up = await lab.oob(['up', lab.profile]);
      expect(up.code, `${what}: ${up.stderr}`).to.equal(0);
      expect(await state(), what).to.deep.equal(want);
      expect(await ask(lab.profile, peer, PORT), what).to.equal('router');
      const again = await lab.oob(['up', lab.profile]);
      expect(again.stdout, what).to.match(/already up, nothing to do/);
    }
    await lab.writeProfile(lab.seedProfile().replace('10.20.30.53', '10.20.30.54'));
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    expect(await fsp.readFile(`/etc/netns/${lab.profile}/resolv.conf`, 'utf8')).to.match(
      /^nameserver 10\.20\.30\.54$/m,
    );
    expect(await state()).to.deep.equal({ addrs: ['10.20.30.1/24'], mtu: 1280, def: [`10.20.30.20 ${lab.nic}`] });
  });

  it('a profile that now selects another NIC: the old one goes back to the host restored, the new one comes in; a failure midway puts the old one back in place', async () => {
    await configureHostNic();
    await lab.writeProfile(lab.seedProfile());
    const nic2 = `${lab.nic}b`;
    const r2 = await lab.addNs('r2');
    await must(['ip', '-n', lab.host, 'link', 'add', nic2, 'type', 'veth', 'peer', 'name', 'r1', 'netns', r2]);
    await must(['ip', '-n', r2, '-batch', '-'], 'link set lo up\naddr add 10.20.30.20/24 dev r1\nlink set r1 up\n');
    await lab.inHost(['ip', '-batch', '-'], `addr add 192.168.88.5/24 dev ${nic2}\nlink set dev ${nic2} up\n`);
    const facts2 = async () => linkFacts((await snapshot(lab.host)).links.find((l) => l.ifname === nic2));
    const before2 = await facts2();
    const before = await hostFacts();
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    await listen(lab.router, '10.20.30.20', PORT, 'first');
    await listen(r2, '10.20.30.20', PORT, 'second');
    expect(await ask(lab.profile, '10.20.30.20', PORT)).to.equal('first');
    const record = await fsp.readFile(recordFile(), 'utf8');
    const profile2 = lab.seedProfile().replace(`nic = ${lab.nic}`, `nic = ${nic2}`);
    await lab.writeProfile(profile2);

    // the new NIC's default route refused: all undone, the old NIC serves again as before
    const failed = await lab.oob(['up', lab.profile], {
      PATH: `${await ipFailingOnLine(lab, `route replace 0.0.0.0/0 via 10.20.30.20 dev ${nic2}`)}:${process.env.PATH}`,
    });
    expect(failed.code, failed.stderr).to.equal(10);
    expect(firstLine(failed.stderr)).to.match(/rolled back .*the system is as before/);
    expect(await facts2()).to.deep.equal(before2);
    expect((await snapshot(lab.host)).links.map((l) => l.ifname)).not.to.include(lab.nic);
    expect(await ask(lab.profile, '10.20.30.20', PORT)).to.equal('first');
    expect(await fsp.readFile(recordFile(), 'utf8')).to.equal(record);

    const up = await lab.oob(['up', lab.profile]);
    expect(up.code, up.stderr).to.equal(0);
    expect(await hostFacts(), 'the old NIC is back, restored').to.deep.equal({
      ...before,
      links: [...before.links].filter((l) => l !== nic2).sort(),
    });
    expect(await ask(lab.profile, '10.20.30.20', PORT)).to.equal('second');
    expect((await lab.oob(['up', lab.profile])).stdout).to.match(/already up, nothing to do/);
    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(0);
    expect(await facts2()).to.deep.equal(before2);
    expect(await hostFacts()).to.deep.equal(before);
  });

  describe("leftovers of an oob killed midway are oob's to clean", () => {
    /** An `ip` first on PATH that, asked to add the profile's namespace, does what a killed `ip netns add` leaves (the file, no namespace mounted on it) and kills oob. */
    async function killedNetnsAdd() {
      const dir = path.join(lab.dir, 'killing-ip');
      await fsp.mkdir(dir, { recursive: true });
      await fsp.writeFile(
        path.join(dir, 'ip'),
        `#!/bin/sh
case " $* " in *" -batch "*) ;; *) exec ip "$@" ;; esac
case " $* " in *" -j "*) exec ip "$@" ;; esac
in=$(cat)
case "$in" in *"netns add ${lab.profile}"*) : > /run/netns/${lab.profile}; kill -9 $PPID; exit 1 ;; esac
printf '%s\n' "$in" | exec ip "$@"
`.replace(/exec ip /g, `exec ${spawnSync('sh', ['-c', 'command -v ip']).stdout.toString().trim()} `),
        { mode: 0o755 },
      );
      const r = await lab.oob(['up', lab.profile], { PATH: `${dir}:${process.env.PATH}` });
      expect(r.code, 'oob was killed by SIGKILL (the lab reports a death by signal as 128 + its number)').to.equal(137);
      expect(await exists(recordFile()), 'the record was written before').to.equal(true);
      expect((await sh(['ip', '-n', lab.profile, 'link', 'show'])).code, 'the namespace entry is stale').not.to.equal(
        0,
      );
    }

    it('a /run/netns/NAME that a killed "ip netns add" left: down and up clean it, since oob\'s record says oob made it', async () => {
      await configureHostNic();
      await lab.writeProfile(lab.seedProfile());
      const before = await hostFacts();
      await killedNetnsAdd();
      const down = await lab.oob(['down', lab.profile]);
      expect(down.code, down.stderr).to.equal(0);
      expect(await exists(`/run/netns/${lab.profile}`)).to.equal(false);
      expect(await exists(recordFile())).to.equal(false);
      expect(await hostFacts()).to.deep.equal(before);

      await killedNetnsAdd();
      const up = await lab.oob(['up', lab.profile]);
      expect(up.code, up.stderr).to.equal(0);
      expect((await snapshot(lab.profile)).links.map((l) => l.ifname)).to.include(lab.nic);
      expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
      expect(await hostFacts()).to.deep.equal(before);
    });

    it("a stale /run/netns/NAME without oob's record is not oob's: refused, left alone", async () => {
      await lab.writeProfile(lab.seedProfile());
      await fsp.writeFile(`/run/netns/${lab.profile}`, '');
      try {
        for (const verb of ['up', 'down']) {
          const r = await lab.oob([verb, lab.profile]);
          expect(r.code, r.stderr).to.equal(7);
          expect(firstLine(r.stderr)).to.match(/cannot read namespace .* is stale, remove it with: ip netns del/);
          expect(await exists(`/run/netns/${lab.profile}`)).to.equal(true);
        }
      } finally {
        await fsp.rm(`/run/netns/${lab.profile}`, { force: true });
      }
    });

    it("temp files of atomic writes whose writer is dead are removed; a live writer's are not", async () => {
      await lab.writeProfile(lab.seedProfile());
      const dead = spawnSync('true').pid!;
      const dir = path.dirname(recordFile());
      await fsp.mkdir(dir, { recursive: true });
      await fsp.writeFile(path.join(dir, `nic.json.tmp-${dead}-1`), '{');
      await fsp.writeFile(path.join(dir, `nic.json.tmp-${process.pid}-1`), '{');
      const up = await lab.oob(['up', lab.profile]);
      expect(up.code, up.stderr).to.equal(0);
      expect((await fsp.readdir(dir)).sort()).to.deep.equal(['nic.json', `nic.json.tmp-${process.pid}-1`]);
    });
  });
});
