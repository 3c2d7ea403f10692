import { expect } from 'chai';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { spawnRunner } from '../../src/sys/run.js';
import { isRoot, Lab } from './lab.js';

const ROLES = new URL('../../../ansible/roles', import.meta.url).pathname;
const PLAYBOOK = '/usr/bin/ansible-playbook';

/**
 * The Ansible role (ansible/roles/oob) run by Debian's ansible-core against localhost, inside the
 * lab's host namespace (the NIC is the lab's veth), writing into an image directory (oob_root:
 * oob enable --root), so neither this machine's NICs nor its systemd are touched.
 */
describe('integration: the Ansible role (ansible-playbook, local connection, --root image in a lab)', function () {
  let lab: Lab;
  let img: string;
  let vars: string;
  before(function () {
    if (!isRoot() || !existsSync(PLAYBOOK)) {
      console.log(
        '    SKIPPED: the role tests need root and ansible-playbook (test/install-deps.sh installs ansible-core)',
      );
      this.skip();
    }
  });
  beforeEach(async () => {
    lab = await Lab.create();
    img = path.join(lab.dir, 'image');
    await fsp.mkdir(path.join(lab.dir, 'ansible-tmp'), { mode: 0o700 });
    const oob = path.join(lab.dir, 'oob');
    await fsp.writeFile(oob, `#!/bin/sh\nexec ${process.execPath} ${await lab.installedCli()} "$@"\n`, { mode: 0o755 });
    await fsp.writeFile(path.join(lab.dir, 'play.yml'), '- hosts: all\n  gather_facts: false\n  roles: [oob]\n');
    vars = JSON.stringify({ oob_install: false, oob_bin: oob, oob_root: img, oob_purge_unlisted: true });
  });
  afterEach(async () => {
    await lab.destroy();
  });

  const profiles = (gateway: string, address = '10.20.30.1/24') =>
    JSON.stringify({
      oob_profiles: [
        { name: 'mgmt', nic: lab.nic, addresses: [address], gateway, dns: { nameservers: ['10.20.30.53'] } },
      ],
    });
  const play = async (extra: string[]) => {
    const tmp = path.join(lab.dir, 'ansible-tmp');
    const r = await spawnRunner(
      [
        '/usr/bin/nsenter',
        `--net=/run/netns/${lab.host}`,
        '--',
        PLAYBOOK,
        '-i',
        'localhost,',
        '-c',
        'local',
        path.join(lab.dir, 'play.yml'),
        '-e',
        vars,
        ...extra,
      ],
      {
        allowFail: true,
        timeoutMs: 180_000,
        env: lab.env({
          ANSIBLE_ROLES_PATH: ROLES,
          ANSIBLE_LOCAL_TEMP: tmp,
          ANSIBLE_REMOTE_TEMP: tmp,
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_RETRY_FILES_ENABLED: '0',
        }),
      },
    );
    const recap = /localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)/.exec(r.stdout);
    expect(recap, r.stdout + r.stderr).to.not.equal(null);
    return { ...r, changed: Number(recap![2]), failed: Number(recap![3]) };
  };
  // the wants link points to /etc/... inside the image: look at the link, not its target
  const linked = (p: string) =>
    fsp.lstat(p).then(
      () => true,
      () => false,
    );
  const profileFile = () => path.join(img, 'etc/oob/profiles/mgmt.ini');

  it('first run changes, the second changes nothing; --check on a changed gateway reports changed, changes nothing, and --diff shows it', async () => {
    const first = await play(['-e', profiles('10.20.30.20')]);
    expect(first.code, first.stdout).to.equal(0);
    expect(first.changed).to.be.greaterThan(0);
    const text = await fsp.readFile(profileFile(), 'utf8');
    expect(text)
      .to.match(new RegExp(`^nic = ${lab.nic}$`, 'm'))
      .and.match(/^gateway = 10\.20\.30\.20$/m);
    expect(await linked(path.join(img, 'etc/systemd/system/multi-user.target.wants/oob@mgmt.service'))).to.equal(true);
    const second = await play(['-e', profiles('10.20.30.20')]);
    expect(second.code, second.stdout).to.equal(0);
    expect(second.changed, second.stdout).to.equal(0);
    const check = await play(['--check', '--diff', '-e', profiles('10.20.30.254')]);
    expect(check.code, check.stdout).to.equal(0);
    expect(check.changed).to.be.greaterThan(0);
    expect(check.stdout)
      .to.match(/^-gateway = 10\.20\.30\.20$/m)
      .and.match(/^\+gateway = 10\.20\.30\.254$/m);
    expect(await fsp.readFile(profileFile(), 'utf8')).to.equal(text);
  });

  it("a bad profile fails the host with oob's line and leaves the old profile as it was", async () => {
    expect((await play(['-e', profiles('10.20.30.20')])).code).to.equal(0);
    const before = await fsp.readFile(profileFile(), 'utf8');
    const bad = await play(['-e', profiles('10.20.30.20', '10.20.30.1/99')]);
    expect(bad.code).to.equal(2);
    expect(bad.failed).to.equal(1);
    expect(bad.stdout).to.match(/\[interface\] address: prefix length \/99 is larger than 32 for an IPv4 address/);
    expect(await fsp.readFile(profileFile(), 'utf8')).to.equal(before);
  });

  it('purge: a profile no longer listed is disabled (its unit files go) and deleted; the listed one stays', async () => {
    expect((await play(['-e', profiles('10.20.30.20')])).code).to.equal(0);
    await fsp.copyFile(profileFile(), path.join(img, 'etc/oob/profiles/old.ini'));
    const en = await lab.oobInstalled(['--profile-dir', '/etc/oob/profiles', 'enable', 'old', '--root', img, '--json']);
    expect(JSON.parse(en.stdout)).to.deep.include({ changed: true, enabled: true });
    const purge = await play(['-e', profiles('10.20.30.20')]);
    expect(purge.code, purge.stdout).to.equal(0);
    expect(purge.changed).to.equal(2);
    expect(await fsp.readdir(path.join(img, 'etc/oob/profiles'))).to.deep.equal(['mgmt.ini']);
    expect(existsSync(path.join(img, 'etc/systemd/system/oob@old.service.d'))).to.equal(false);
    expect(await linked(path.join(img, 'etc/systemd/system/multi-user.target.wants/oob@old.service'))).to.equal(false);
    expect(await linked(path.join(img, 'etc/systemd/system/multi-user.target.wants/oob@mgmt.service'))).to.equal(true);
  });

  it("an enable that oob refuses fails the host with oob's one line (a file in the unit's place that oob did not write)", async () => {
    const dropIn = path.join(img, 'etc/systemd/system/oob@mgmt.service.d/10-oob.conf');
    await fsp.mkdir(path.dirname(dropIn), { recursive: true });
    await fsp.writeFile(dropIn, '[Service]\n# mine\n');
    const r = await play(['-e', profiles('10.20.30.20')]);
    expect(r.code).to.equal(2);
    expect(r.failed).to.equal(1);
    expect(r.stdout).to.match(/mgmt: oob: .*10-oob\.conf exists and was not written by oob: move it away first/);
    expect(await fsp.readFile(dropIn, 'utf8')).to.equal('[Service]\n# mine\n');
  });

  it('the example play passes ansible-playbook --syntax-check and ansible-lint (production profile)', async () => {
    const dir = new URL('../../../ansible', import.meta.url).pathname;
    const syntax = await spawnRunner([PLAYBOOK, '--syntax-check', '-i', 'localhost,', path.join(dir, 'site.yml')], {
      allowFail: true,
      timeoutMs: 60_000,
      env: { ...process.env, ANSIBLE_ROLES_PATH: ROLES },
    });
    expect(syntax.code, syntax.stderr).to.equal(0);
    const lint = await spawnRunner(
      ['/usr/bin/env', '-C', dir, '/usr/bin/ansible-lint', '--nocolor', '--offline', '--profile', 'production'],
      {
        allowFail: true,
        timeoutMs: 120_000,
        env: { ...process.env, ANSIBLE_ROLES_PATH: ROLES },
      },
    );
    expect(lint.code, lint.stdout + lint.stderr).to.equal(0);
  });
});
