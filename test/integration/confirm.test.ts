// Remote-safe changes (issue 9): up/down --confirm on real namespaces. The worker is detached here
// (the lab's host is a network namespace other than PID 1's, so no transient unit).
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { confirmDir, outcomeFile, pendingFile, resolvePaths } from '../../src/state/layout.js';
import { until } from '../../src/sys/until.js';
import { CLI, isRoot, Lab, must, oobInBackground, sh, spareNicConfigured } from './lab.js';

describe('integration: --confirm, oob confirm, oob revert (issue 9)', function () {
  let lab: Lab;
  const children: ChildProcess[] = [];
  before(function () {
    if (!isRoot()) this.skip();
  });
  beforeEach(async () => {
    lab = await Lab.create();
    await spareNicConfigured(lab, { v6: true });
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await lab?.destroy();
    expect(await lab.namespaces(), 'the lab left namespaces behind').to.deep.equal([]);
  });

  /** The host namespace as `ip -j` prints it (addresses, every route, links): compared byte for byte. */
  const hostJson = async () => ({
    addr: await lab.inHost(['ip', '-j', 'addr', 'show']),
    route: await lab.inHost(['ip', '-j', 'route', 'show', 'table', 'all']),
    route6: await lab.inHost(['ip', '-6', '-j', 'route', 'show', 'table', 'all']),
    link: await lab.inHost(['ip', '-j', 'link', 'show']),
  });
  const readJson = async (f: string) => JSON.parse(await fsp.readFile(f, 'utf8').catch(() => 'null')) as unknown;
  const pending = () =>
    readJson(pendingFile(resolvePaths({}, lab.env()), lab.profile)) as Promise<{ state: string } | null>;
  const outcome = () => readJson(outcomeFile(lab.runtimeDir, lab.profile)) as Promise<{ result: string } | null>;
  const waitFor = async <T>(what: string, fn: () => Promise<T | undefined | false>) => {
    const v = await until(fn, { intervalMs: 50, timeoutMs: 60_000 });
    if (v === undefined || v === false) throw new Error(`timed out waiting for ${what}`);
    return v;
  };

  /** oob in the lab's host, in the background, in its own process group; its exit and output. */
  const background = (args: string[]) => oobInBackground(lab, children, args);
  const nicIn = async (ns: string) =>
    (await must(['ip', '-n', ns, '-j', 'link', 'show'])).includes(`"ifname":"${lab.nic}"`);

  it('up --confirm, not confirmed: reverted, the host byte for byte as before (ip -j addr/route/link)', async () => {
    const before = await hostJson();
    const r = await lab.oob(['up', lab.profile, '--confirm=2s']);
    expect(r.code, r.stderr).to.equal(10);
    expect(r.stdout).to.match(new RegExp(`^${lab.profile}: up: ${lab.nic} in namespace ${lab.profile}`));
    expect(r.stderr).to.include(`run "oob confirm ${lab.profile}" within 2 s`);
    expect(r.stderr).to.match(/not confirmed within 2 s: up reverted/);
    expect(await hostJson()).to.deep.equal(before);
    expect(await lab.namespaces()).not.to.include(lab.profile);
    expect(await pending()).to.equal(null);
  });

  it('up --confirm, confirmed from inside the management namespace: kept, also after the deadline', async () => {
    const bg = background(['up', lab.profile, '--confirm=3s']);
    await waitFor('the change to wait', async () => (await pending())?.state === 'waiting');
    // typed in a session that came in through the new path: another network namespace, same files
    const c = await sh(['ip', 'netns', 'exec', lab.profile, process.execPath, CLI, 'confirm', lab.profile], {
      env: lab.env(),
    });
    expect(c.code, c.stderr).to.equal(0);
    expect(c.stdout).to.include('up confirmed and kept');
    const r = await bg.done;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`${lab.profile}: up confirmed and kept`);
    await new Promise((res) => setTimeout(res, 3500)); // past the deadline: nothing undoes it later
    expect(await nicIn(lab.profile)).to.equal(true);
    expect((await outcome())!.result).to.equal('confirmed');
    expect(await pending()).to.equal(null);
    const down = await lab.oob(['down', lab.profile]);
    expect(down.code, down.stderr).to.equal(0);
  });

  it('oob revert undoes at once; a second change meanwhile is refused with how to end the first', async () => {
    const before = await hostJson();
    const bg = background(['up', lab.profile, '--confirm=300s']);
    await waitFor('the change to wait', async () => (await pending())?.state === 'waiting');
    const again = await lab.oob(['up', lab.profile, '--confirm']);
    expect(again.code).to.equal(9);
    expect(again.stderr).to.match(
      new RegExp(`keep it with "oob confirm ${lab.profile}" or undo it now with "oob revert ${lab.profile}"`),
    );
    const st = await lab.oob(['status', lab.profile, '--json']);
    const pend = (JSON.parse(st.stdout) as { profiles: Array<{ pending: Record<string, unknown> | null }> })
      .profiles[0]!.pending!;
    expect(pend.what).to.equal('up');
    expect(pend.state).to.equal('waiting');
    expect(pend.workerAlive).to.equal(true);
    expect(Date.parse(String(pend.deadline))).to.be.greaterThan(Date.parse(String(pend.since)));
    const table = await lab.oob(['status', lab.profile]);
    expect(table.stdout).to.match(
      new RegExp(`pending  up since .*, reverted at .* unless "oob confirm ${lab.profile}"`),
    );
    const plainDown = await lab.oob(['down', lab.profile]);
    expect(plainDown.code).to.equal(9);
    expect(await nicIn(lab.profile)).to.equal(true);
    const rv = await lab.oob(['revert', lab.profile]);
    expect(rv.code, rv.stderr).to.equal(0);
    expect(rv.stdout).to.include(`reverted by "oob revert ${lab.profile}"`);
    const r = await bg.done;
    expect(r.code).to.equal(10);
    expect(await hostJson()).to.deep.equal(before);
  });

  it("the caller's whole process group SIGKILLed right after it starts: the worker finishes, and unconfirmed reverts", async () => {
    const before = await hostJson();
    const bg = background(['up', lab.profile, '--confirm=2s']);
    await waitFor('the worker to take the change', async () => {
      const p = await pending();
      return p !== null && p.state !== 'starting';
    });
    process.kill(-bg.child.pid!, 'SIGKILL');
    const r = await bg.done;
    expect(r.signal).to.equal('SIGKILL');
    const o = await waitFor('the outcome', async () => (await outcome()) ?? undefined);
    expect(o!.result).to.equal('reverted');
    expect(await hostJson()).to.deep.equal(before);
  });

  it('the lock-out guard: refuses the NIC of your SSH session without --confirm, lets --confirm move it (and revert)', async () => {
    const session = { SSH_CONNECTION: '192.168.77.9 50000 192.168.77.5 22' };
    const plain = await lab.oob(['up', lab.profile], session);
    expect(plain.code).to.equal(8);
    expect(await nicIn(lab.host)).to.equal(true);
    const r = await lab.oob(['up', lab.profile, '--confirm=1s'], session);
    expect(r.stdout, r.stderr).to.match(new RegExp(`^${lab.profile}: up: ${lab.nic}`));
    expect(r.code).to.equal(10);
    expect(await nicIn(lab.host)).to.equal(true);
  });

  it('down --confirm, not confirmed: brought up again from the profile', async () => {
    expect((await lab.oob(['up', lab.profile])).code).to.equal(0);
    const r = await lab.oob(['down', lab.profile, '--confirm=1s']);
    expect(r.code, r.stderr).to.equal(10);
    expect(r.stdout).to.include(`${lab.profile}: down (`);
    expect(r.stderr).to.match(/not confirmed within 1 s: down reverted/);
    expect(await nicIn(lab.profile)).to.equal(true);
    expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
  });

  it('bad --confirm values and confirm without a pending change: one line each, nothing changed', async () => {
    const bad = await lab.oob(['up', lab.profile, '--confirm=soon']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/^oob: --confirm takes a duration/);
    const two = await lab.oob(['up', lab.profile, 'other', '--confirm']);
    expect(two.code).to.equal(2);
    const none = await lab.oob(['confirm', lab.profile]);
    expect(none.code).to.equal(7);
    expect(none.stderr).to.match(new RegExp(`^oob: ${lab.profile} has no change waiting for confirmation`));
    expect(await nicIn(lab.host)).to.equal(true);
    expect(await fsp.readdir(confirmDir(lab.runtimeDir)).catch(() => [])).to.deep.equal([]);
  });
});
