import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { spawnRunner } from '../../src/sys/run.js';
import { Container, REPO } from './container.js';
import { banner, isRoot, Lab, must, waitFor } from './lab.js';

const ROLES = path.join(REPO, 'ansible/roles');
const SITE = path.join(REPO, 'ansible/site.yml');
const PLAYBOOK = '/usr/bin/ansible-playbook';
const DATA = '10.20.30.1'; // host0, the container's data NIC: the play's SSH connection runs over it
const MGMT = '10.20.31.1'; // mgmt0, the second NIC: the one the role moves into namespace mgmt
const MGMT_PEER = '10.20.31.20';

/** A TCP connect from inside namespace NS of the container: the banner's first line, or the error code. */
const bannerInside = (ct: Container, ns: string, addr: string) =>
  ct
    .exec([
      'ip',
      'netns',
      'exec',
      ns,
      '/usr/bin/node',
      '-e',
      `const s=require('net').connect(22,${JSON.stringify(addr)});s.setTimeout(2000,()=>{process.stdout.write('TIMEOUT');process.exit(0)});s.once('data',d=>{process.stdout.write(String(d).split('\\n')[0]);process.exit(0)});s.on('error',e=>{process.stdout.write(e.code);process.exit(0)})`,
    ])
    .then((r) => r.stdout.trim());

/**
 * The role on a real target over SSH: a container booted with systemd (nspawn, over an overlay of
 * this machine's root: nothing here changes) with two NICs. host0 is the data NIC (10.20.30.1),
 * carrying the play: ansible-playbook runs on this machine inside the namespace of host0's peer
 * (never on this machine's own links) and logs in with a key of the test's. mgmt0 is the spare NIC
 * the role moves into namespace mgmt (10.20.31.1), its peer in another namespace of the test's.
 * The role installs the .deb built from this checkout.
 */
describe('integration: the Ansible role over SSH on a booted container (data NIC carries the play, the role moves mgmt0)', function () {
  this.timeout(600_000);
  let ct: Container;
  let lab: Lab; // the second target of the serial rollout: localhost, writing into an image
  let work = '';
  let key = '';
  let deb = '';
  let localOob = '';
  before(async function () {
    if (!isRoot() || !existsSync(PLAYBOOK)) {
      console.log('    SKIPPED: the role tests over SSH need root and ansible-playbook (test/install-deps.sh)');
      this.skip();
    }
    if (!Container.available())
      throw new Error('these tests need systemd-container (test/install-deps.sh installs it)');
    if (!existsSync('/usr/sbin/sshd'))
      throw new Error('these tests need openssh-server (test/install-deps.sh installs it)');
    ct = await Container.create({ extraNic: { inside: 'mgmt0', peerAddress: `${MGMT_PEER}/24` } });
    work = path.join(ct.dir, 'ansible');
    await fsp.mkdir(path.join(work, 'tmp'), { recursive: true, mode: 0o700 });
    key = path.join(work, 'id');
    await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key]);
    await ct.write('/root/.ssh/authorized_keys', await fsp.readFile(`${key}.pub`, 'utf8'), 0o600);
    // a server as admins have it: no policy-rc.d forbidding maintainer scripts to start anything
    await fsp.rm(path.join(ct.merged, 'usr/sbin/policy-rc.d'), { force: true });
    deb = await Container.buildPackage(ct.dir);
    await fsp.writeFile(path.join(work, 'play.yml'), '- hosts: all\n  gather_facts: false\n  roles: [oob]\n');
    await ct.boot();
    // the data NIC: its address and the default route; the host's sshd (ssh.service) answers on it
    await ct.mustExec(['ip', 'addr', 'add', `${DATA}/24`, 'dev', 'host0']);
    await ct.mustExec(['ip', 'link', 'set', 'host0', 'up']);
    await ct.mustExec(['ip', 'route', 'replace', 'default', 'via', '10.20.30.20', 'dev', 'host0']);
    await ct.mustExec(['systemctl', 'start', 'ssh.service']);
    await waitFor('the data sshd', async () => (await banner(ct.lan, DATA, 22)).startsWith('SSH-'), 20_000);
    lab = await Lab.create();
    localOob = path.join(lab.dir, 'oob');
    await fsp.writeFile(localOob, `#!/bin/sh\nexec ${process.execPath} ${await lab.installedCli()} "$@"\n`, {
      mode: 0o755,
    });
  });
  after(async () => {
    await ct?.destroy();
    await lab?.destroy();
  });

  const sshHost = (vars: object = {}) => ({
    ansible_host: DATA,
    ansible_user: 'root',
    ansible_ssh_private_key_file: key,
    ansible_python_interpreter: '/usr/bin/python3',
    ...vars,
  });
  /** The second target: this machine through a local connection, oob writing into an image (--root). */
  const localHost = (vars: object = {}) => ({
    ansible_connection: 'local',
    ansible_python_interpreter: '/usr/bin/python3',
    oob_install: false,
    oob_bin: localOob,
    oob_root: path.join(lab.dir, 'image'),
    ...vars,
  });
  const mgmt = (o: { gateway?: string; address?: string } = {}) => ({
    oob_profiles: [
      { name: 'mgmt', nic: 'mgmt0', addresses: [o.address ?? `${MGMT}/24`], gateway: o.gateway ?? MGMT_PEER },
    ],
  });
  /** The role installs the package (the first runs); later plays skip the install (it is slow: apt). */
  const withPackage = () => ({ oob_package_src: deb, oob_purge_unlisted: true });
  const installed = { oob_install: false, oob_purge_unlisted: true };

  /** ansible-playbook in the data LAN's namespace; the recap of every host that ran. */
  type Recap = Record<string, { ok: number; changed: number; unreachable: number; failed: number }>;
  let plays = 0;
  /** ansible-playbook's command line and environment: in the data LAN's namespace, on this test's inventory. */
  const playCommand = async (
    hosts: Record<string, object>,
    o: { playbook?: string; extra?: string[]; group?: string } = {},
  ) => {
    const inv = path.join(work, `inventory-${++plays}.json`);
    const all = o.group ? { children: { [o.group]: { hosts } } } : { hosts };
    await fsp.writeFile(inv, JSON.stringify({ all }));
    const argv = [
      '/usr/bin/nsenter',
      `--net=/run/netns/${ct.lan}`,
      '--',
      PLAYBOOK,
      '-i',
      inv,
      o.playbook ?? path.join(work, 'play.yml'),
      ...(o.extra ?? []),
    ];
    const env = lab.env({
      ANSIBLE_ROLES_PATH: ROLES,
      ANSIBLE_HOME: path.join(work, 'home'),
      ANSIBLE_LOCAL_TEMP: path.join(work, 'tmp'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_HOST_KEY_CHECKING: 'False',
      ANSIBLE_TIMEOUT: '10',
      // a master connection per host for the whole test (it runs in the data LAN's namespace,
      // and goes with it), modules piped over it: a task costs one round trip, not five logins
      ANSIBLE_SSH_ARGS:
        '-o ControlMaster=auto -o ControlPersist=300s -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no',
      ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(work, 'cp'),
      ANSIBLE_PIPELINING: 'True',
    });
    return { argv, env };
  };
  const recapOf = (stdout: string): Recap => {
    const recap: Recap = {};
    for (const m of stdout.matchAll(/^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm))
      recap[m[1]!] = { ok: Number(m[2]), changed: Number(m[3]), unreachable: Number(m[4]), failed: Number(m[5]) };
    return recap;
  };
  /** Run the play to its end; its exit code, output and recap (every host that ran). */
  const play = async (
    hosts: Record<string, object>,
    o: { playbook?: string; extra?: string[]; group?: string } = {},
  ) => {
    const { argv, env } = await playCommand(hosts, o);
    const r = await spawnRunner(argv, { allowFail: true, timeoutMs: 300_000, env });
    const recap = recapOf(r.stdout);
    expect(Object.keys(recap), r.stdout + r.stderr).to.not.deep.equal([]);
    return { ...r, recap, out: r.stdout + r.stderr };
  };
  const profileText = () => ct.mustExec(['cat', '/etc/oob/profiles/mgmt.ini']);
  const unitState = async (name: string) => ({
    enabled: (await ct.exec(['systemctl', 'is-enabled', `oob@${name}.service`])).stdout.trim(),
    active: (await ct.exec(['systemctl', 'is-active', `oob@${name}.service`])).stdout.trim(),
  });
  const mgmtAnswers = async () =>
    (await waitFor(
      'the management plane',
      async () => (await banner(ct.extraLan, MGMT, 22)).startsWith('SSH-'),
      15_000,
    )) === true;
  const inRootNs = async (nic: string) => (await ct.exec(['ip', 'link', 'show', nic])).code === 0;
  /** host0's addresses in the container's host namespace (its ifindex may change with a move and back). */
  const host0Addrs = async () =>
    (
      JSON.parse(await ct.mustExec(['ip', '-j', 'addr', 'show', 'dev', 'host0'])) as Array<{
        addr_info: Array<{ local: string; prefixlen: number }>;
      }>
    )[0]!.addr_info
      .map((a) => `${a.local}/${a.prefixlen}`)
      .sort();

  it('first run installs oob and moves mgmt0: changed, and the management plane answers SSH', async () => {
    const r = await play({ ct: sshHost({ ...withPackage(), ...mgmt() }) });
    expect(r.code, r.out).to.equal(0);
    expect(r.recap.ct!.changed, r.out).to.be.greaterThan(0);
    expect((await ct.mustExec(['/usr/bin/oob', '--version'])).trim()).to.match(/^\d+\.\d+\.\d+/);
    expect(await unitState('mgmt')).to.deep.equal({ enabled: 'enabled', active: 'active' });
    expect(await inRootNs('mgmt0'), 'mgmt0 left the host namespace').to.equal(false);
    expect(await mgmtAnswers()).to.equal(true);
    // from inside the container's namespace mgmt, and from the management LAN
    expect(await bannerInside(ct, 'mgmt', MGMT)).to.match(/^SSH-2\.0-OpenSSH/);
    expect(await banner(ct.extraLan, MGMT, 22)).to.match(/^SSH-2\.0-OpenSSH/);
  });

  it('the second run of the same play changes nothing (changed=0)', async () => {
    const pid = (await ct.mustExec(['systemctl', 'show', '-P', 'MainPID', 'oob@mgmt.service'])).trim();
    const r = await play({ ct: sshHost({ ...withPackage(), ...mgmt() }) });
    expect(r.code, r.out).to.equal(0);
    expect(r.recap.ct, r.out).to.deep.include({ changed: 0, failed: 0 });
    expect((await ct.mustExec(['systemctl', 'show', '-P', 'MainPID', 'oob@mgmt.service'])).trim()).to.equal(pid);
  });

  it('--check --diff on a changed gateway reports changed and shows the diff, and changes nothing', async () => {
    const before = await profileText();
    const routes = await ct.mustExec(['ip', '-n', 'mgmt', 'route', 'show', 'default']);
    expect(routes).to.include(`via ${MGMT_PEER}`);
    const r = await play(
      { ct: sshHost({ ...installed, ...mgmt({ gateway: '10.20.31.254' }) }) },
      { extra: ['--check', '--diff'] },
    );
    expect(r.code, r.out).to.equal(0);
    expect(r.recap.ct!.changed, r.out).to.be.greaterThan(0);
    expect(r.stdout)
      .to.match(/^-gateway = 10\.20\.31\.20$/m)
      .and.match(/^\+gateway = 10\.20\.31\.254$/m);
    expect(await profileText()).to.equal(before);
    expect(await ct.mustExec(['ip', '-n', 'mgmt', 'route', 'show', 'default'])).to.equal(routes);
    expect(await unitState('mgmt')).to.deep.equal({ enabled: 'enabled', active: 'active' });
  });

  it("a bad profile fails the host with oob's one line and leaves it as it was", async () => {
    const before = await profileText();
    const pid = (await ct.mustExec(['systemctl', 'show', '-P', 'MainPID', 'oob@mgmt.service'])).trim();
    const r = await play({ ct: sshHost({ ...installed, ...mgmt({ address: `${MGMT}/99` }) }) });
    expect(r.code, r.out).to.equal(2);
    expect(r.recap.ct!.failed).to.equal(1);
    expect(r.stdout).to.match(/\[interface\] address: prefix length \/99 is larger than 32 for an IPv4 address/);
    expect(await profileText()).to.equal(before);
    expect((await ct.mustExec(['systemctl', 'show', '-P', 'MainPID', 'oob@mgmt.service'])).trim()).to.equal(pid);
    expect(await mgmtAnswers()).to.equal(true);
  });

  it('serial rollout (ansible/site.yml): a bad canary stops the rollout; a bad host in a later batch fails only itself', async () => {
    const before = await profileText();
    const bad = localHost({ oob_profiles: [{ name: 'mgmt', nic: lab.nic, addresses: ['10.20.30.1/99'] }] });
    const noBecome = { ansible_become: false };
    // the canary (first batch of one) is bad: it fails, and the container is never touched
    const stopped = await play(
      {
        canary: { ...bad, ...noBecome },
        ct: sshHost({ ...installed, ...mgmt({ gateway: '10.20.31.254' }), ...noBecome }),
      },
      { playbook: SITE, group: 'oob_servers' },
    );
    expect(stopped.code, stopped.out).to.equal(2);
    expect(stopped.recap.canary, stopped.out).to.deep.include({ failed: 1 });
    expect(stopped.recap.ct, stopped.out).to.equal(undefined);
    expect(stopped.stdout).to.match(/prefix length \/99 is larger than 32/);
    expect(await profileText()).to.equal(before);
    // the container first (a good canary, its gateway changed: the handler restarts its plane), then the bad host
    const later = await play(
      {
        ct: sshHost({ ...installed, ...mgmt({ gateway: '10.20.31.254' }), ...noBecome }),
        bad: { ...bad, ...noBecome },
      },
      { playbook: SITE, group: 'oob_servers' },
    );
    expect(later.code, later.out).to.equal(2);
    expect(later.recap.ct, later.out).to.deep.include({ failed: 0, unreachable: 0 });
    expect(later.recap.ct!.changed).to.be.greaterThan(0);
    expect(later.recap.bad, later.out).to.deep.include({ failed: 1 });
    expect(await profileText()).to.match(/^gateway = 10\.20\.31\.254$/m);
    expect(await ct.mustExec(['ip', '-n', 'mgmt', 'route', 'show', 'default'])).to.include('via 10.20.31.254');
    expect(await mgmtAnswers()).to.equal(true);
  });

  it('a profile removed from the variables with oob_purge_unlisted: disabled, deleted, mgmt0 back in the host namespace', async () => {
    const r = await play({ ct: sshHost({ ...installed, oob_profiles: [] }) });
    expect(r.code, r.out).to.equal(0);
    expect(r.recap.ct!.changed, r.out).to.be.greaterThan(0);
    expect((await unitState('mgmt')).enabled).to.not.equal('enabled');
    expect((await unitState('mgmt')).active).to.not.equal('active');
    expect(await inRootNs('mgmt0'), 'mgmt0 is back in the host namespace').to.equal(true);
    expect((await ct.exec(['ls', '/etc/oob/profiles'])).stdout).to.equal('');
    expect(await ct.mustExec(['ip', 'netns', 'list'])).to.not.match(/^mgmt\b/m);
    expect(await banner(ct.extraLan, MGMT, 22)).to.not.match(/^SSH-/);
  });

  it('the NIC that carries the play: without oob_confirm the role refuses, says what to set, and nothing moves', async () => {
    const addrs = await host0Addrs();
    const r = await play({
      ct: sshHost({ ...installed, oob_profiles: [{ name: 'data', nic: 'host0', addresses: [`${DATA}/24`] }] }),
    });
    expect(r.code, r.out).to.equal(2);
    expect(r.recap.ct, r.out).to.deep.include({ failed: 1, unreachable: 0 });
    expect(r.stdout).to.match(/data: oob: refusing to enable data: .*host0/);
    expect(r.stdout).to.match(/oob_confirm: true/);
    expect(await inRootNs('host0')).to.equal(true);
    expect(await host0Addrs()).to.deep.equal(addrs);
    expect((await unitState('data')).enabled).to.not.equal('enabled');
    await ct.mustExec(['rm', '-f', '/etc/oob/profiles/data.ini']);
  });

  it('garbage in the variables fails the host before anything is written', async () => {
    const notList = await play({ ct: sshHost({ ...installed, oob_profiles: 'mgmt' }) });
    expect(notList.code, notList.out).to.equal(2);
    expect(notList.recap.ct, notList.out).to.deep.include({ failed: 1, changed: 0 });
    expect(notList.stdout).to.match(/oob_profiles must be a list of profiles .*not a str/);
    // a line break in a value would add a service of its own to the INI text
    const injected = await play({
      ct: sshHost({
        ...installed,
        oob_profiles: [
          {
            name: 'mgmt',
            nic: 'mgmt0\n[service.evil]\nexec = /bin/touch /run/oob-test-evil',
            addresses: [`${MGMT}/24`],
          },
          { name: '../../tmp/x', nic: 'mgmt0' },
        ],
      }),
    });
    expect(injected.code, injected.out).to.equal(2);
    expect(injected.recap.ct, injected.out).to.deep.include({ failed: 1, changed: 0 });
    expect(injected.stdout).to.match(
      /oob_profiles\[0\] \(mgmt\): each profile needs name .* no line break in any value/,
    );
    expect(injected.stdout).to.match(/oob_profiles\[1\] \(\.\.\/\.\.\/tmp\/x\): each profile needs name/);
    expect((await ct.exec(['ls', '/etc/oob/profiles'])).stdout).to.equal('');
    expect(await inRootNs('mgmt0')).to.equal(true);
  });

  it('an unreachable host fails alone (unreachable=1); the container beside it converges', async () => {
    const r = await play({ ghost: sshHost({ ansible_host: '10.20.30.99' }), ct: sshHost({ ...installed, ...mgmt() }) });
    expect(r.code, r.out).to.equal(4);
    expect(r.recap.ghost, r.out).to.deep.include({ unreachable: 1 });
    expect(r.recap.ct, r.out).to.deep.include({ failed: 0, unreachable: 0 });
    expect(r.recap.ct!.changed).to.be.greaterThan(0);
    expect(await mgmtAnswers()).to.equal(true);
  });

  it('the play SIGKILLed while enable runs: the next run converges, the one after changes nothing', async () => {
    expect((await play({ ct: sshHost({ ...installed, oob_profiles: [] }) })).code).to.equal(0);
    expect(await inRootNs('mgmt0')).to.equal(true);
    const { argv, env } = await playCommand({ ct: sshHost({ ...installed, ...mgmt() }) });
    const c = spawn(argv[0]!, argv.slice(1), { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    const closed = new Promise<string | null>((r) => c.on('close', (_code, sig) => r(sig)));
    await waitFor('the enable task', async () => out.includes('TASK [oob : Enable the profiles]'), 60_000);
    await new Promise((r) => setTimeout(r, 700));
    process.kill(-c.pid!, 'SIGKILL');
    expect(await closed).to.equal('SIGKILL');
    expect(out).to.not.match(/PLAY RECAP/);
    const again = await play({ ct: sshHost({ ...installed, ...mgmt() }) });
    expect(again.code, again.out).to.equal(0);
    expect(again.recap.ct, again.out).to.deep.include({ failed: 0 });
    expect(await unitState('mgmt')).to.deep.equal({ enabled: 'enabled', active: 'active' });
    expect(await mgmtAnswers()).to.equal(true);
    const third = await play({ ct: sshHost({ ...installed, ...mgmt() }) });
    expect(third.recap.ct, third.out).to.deep.include({ changed: 0, failed: 0 });
  });

  it('two runs of the play at once from a clean host: both succeed, one plane, and the next run changes nothing', async () => {
    expect((await play({ ct: sshHost({ ...installed, oob_profiles: [] }) })).code).to.equal(0);
    expect(await inRootNs('mgmt0')).to.equal(true);
    const [a, b] = await Promise.all([
      play({ ct: sshHost({ ...installed, ...mgmt() }) }),
      play({ ct: sshHost({ ...installed, ...mgmt() }) }),
    ]);
    expect(a!.code, a!.out).to.equal(0);
    expect(b!.code, b!.out).to.equal(0);
    expect(await unitState('mgmt')).to.deep.equal({ enabled: 'enabled', active: 'active' });
    expect(await inRootNs('mgmt0')).to.equal(false);
    expect(await mgmtAnswers()).to.equal(true);
    const next = await play({ ct: sshHost({ ...installed, ...mgmt() }) });
    expect(next.recap.ct, next.out).to.deep.include({ changed: 0, failed: 0 });
  });

  /** The data NIC itself as the profile: the play's own connection runs over it. */
  const dataProfile = (address: string) => ({
    oob_profiles: [{ name: 'data', nic: 'host0', addresses: [`${address}/24`], gateway: '10.20.30.20' }],
  });

  it('oob_confirm, but the management address does not answer: the host fails, oob reverts, the host answers on its old path', async () => {
    const addrs = await host0Addrs();
    const r = await play({
      ct: sshHost({
        ...installed,
        ...dataProfile('10.20.30.5'),
        oob_purge_unlisted: false,
        oob_confirm: true,
        oob_confirm_host: '10.20.30.77',
        oob_confirm_window: 20,
      }),
    });
    expect(r.code, r.out).to.equal(2);
    expect(r.recap.ct, r.out).to.deep.include({ failed: 1 });
    expect(r.stdout).to.match(/data: moved under --confirm=20s, but confirming over 10\.20\.30\.77 failed/);
    expect(r.stdout).to.match(/oob reverts the change by itself when the window ends/);
    // the window ends: host0 comes back as it was, and the play's path answers again
    expect(await waitFor('host0 back', async () => inRootNs('host0'), 60_000)).to.equal(true);
    await waitFor('the data sshd', async () => (await banner(ct.lan, DATA, 22)).startsWith('SSH-'), 30_000);
    const last = await waitFor(
      'the revert to end',
      async () => {
        const r = await ct.oob(['confirm', 'data']);
        return /the last one: enable reverted/.test(r.stderr) ? r.stderr : undefined;
      },
      60_000,
    );
    expect(last).to.match(/no change waiting for confirmation/);
    expect(await host0Addrs()).to.deep.equal(addrs);
    expect((await unitState('data')).enabled).to.not.equal('enabled');
    await ct.mustExec(['rm', '-f', '/etc/oob/profiles/data.ini']);
  });

  it('oob_confirm: the NIC of the play moves under --confirm, the role confirms over the management address; a re-run over it changes nothing', async () => {
    const vars = { ...installed, ...dataProfile('10.20.30.5'), oob_confirm: true, oob_confirm_window: 60 };
    const r = await play({ ct: sshHost(vars) });
    expect(r.code, r.out).to.equal(0);
    expect(r.recap.ct, r.out).to.deep.include({ failed: 0, unreachable: 0 });
    expect(r.stdout).to.match(
      /TASK \[oob : Confirm the change \(oob confirm\)\][^\n]*\n(FAILED - RETRYING[^\n]*\n)*changed: \[ct\]/,
    );
    expect(await unitState('data')).to.deep.equal({ enabled: 'enabled', active: 'active' });
    expect(await inRootNs('host0')).to.equal(false);
    expect(await ct.mustExec(['ip', '-n', 'data', '-br', 'addr', 'show', 'host0'])).to.match(/10\.20\.30\.5\/24/);
    expect(await banner(ct.lan, '10.20.30.5', 22)).to.match(/^SSH-2\.0-OpenSSH/);
    // kept: nothing waits for a confirmation, and the last change was confirmed
    const last = await ct.oob(['confirm', 'data']);
    expect(last.code).to.not.equal(0);
    expect(last.stderr).to.match(/no change waiting for confirmation \(the last one: enable confirmed/);
    const again = await play({ ct: sshHost({ ...vars, ansible_host: '10.20.30.5' }) });
    expect(again.code, again.out).to.equal(0);
    expect(again.recap.ct, again.out).to.deep.include({ changed: 0, failed: 0 });
  });
});
