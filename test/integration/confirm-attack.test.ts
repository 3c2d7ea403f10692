// Remote-safe changes (issue 9) attacked by a hostile admin: the worker SIGKILLed at random moments
// of the apply, garbage in the pending file, confirm twice, revert after confirm, two changes racing.
// Whatever happens, the NIC is never stranded: the next oob command resolves what is left.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { pendingFile, resolvePaths } from '../../src/state/layout.js';
import { until } from '../../src/sys/until.js';
import { isRoot, Lab, must, oobInBackground, spareNicConfigured } from './lab.js';

describe('integration: --confirm under attack (issue 9)', function () {
  let lab: Lab;
  const children: ChildProcess[] = [];
  before(function () {
    if (!isRoot()) this.skip();
  });
  beforeEach(async () => {
    lab = await Lab.create();
    await spareNicConfigured(lab);
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // a worker this test left (it never should): its pid is in the record
    const p = (await pending().catch(() => null)) as { pid?: number } | null;
    if (p?.pid) await must(['kill', '-9', String(p.pid)]).catch(() => undefined);
    await lab?.destroy();
    expect(await lab.namespaces(), 'the lab left namespaces behind').to.deep.equal([]);
  });

  const hostJson = async () => {
    // a link just brought up (or back) has a tentative link-local address for a moment (DAD)
    await waitFor(
      'the addresses to settle',
      async () => !(await lab.inHost(['ip', '-j', 'addr', 'show'])).includes('tentative'),
    );
    return hostNow();
  };
  const hostNow = async () => ({
    addr: await lab.inHost(['ip', '-j', 'addr', 'show']),
    route: await lab.inHost(['ip', '-j', 'route', 'show', 'table', 'all']),
    link: await lab.inHost(['ip', '-j', 'link', 'show']),
  });
  const file = () => pendingFile(resolvePaths({}, lab.env()), lab.profile);
  const pending = async () =>
    JSON.parse(await fsp.readFile(file(), 'utf8').catch(() => 'null')) as { state: string; pid: number } | null;
  const waitFor = async <T>(what: string, fn: () => Promise<T | undefined | false>) => {
    const v = await until(fn, { intervalMs: 10, timeoutMs: 60_000 });
    if (v === undefined || v === false) throw new Error(`timed out waiting for ${what}`);
    return v;
  };
  const background = (args: string[]) => oobInBackground(lab, children, args);

  it('the worker SIGKILLed at moments through the apply: the next oob command reverts what it left, the host byte for byte as before', async function () {
    this.timeout(300_000);
    const before = await hostJson();
    for (const delayMs of [0, 20, 60, 150, 400, 1500]) {
      const bg = background(['up', lab.profile, '--confirm=3s']);
      const p = await waitFor('the worker to apply', async () => {
        const x = await pending();
        return x && x.state !== 'starting' ? x : undefined;
      });
      await new Promise((r) => setTimeout(r, delayMs));
      process.kill(p.pid, 'SIGKILL');
      const caller = await bg.done;
      // the caller says the worker died and how to end it, unless the worker was done before the kill
      expect(caller.code, `after ${delayMs} ms: ${caller.stderr}`).to.be.oneOf([11]);
      const left = (await pending()) as { state: string; deadline?: string } | null;
      if (left?.state === 'waiting') {
        // killed inside its window: it still waits for confirm or revert (the admin may be on the new path)
        const early = await lab.oob(['down', lab.profile]);
        expect(early.code, `after ${delayMs} ms: ${early.stderr}`).to.equal(9);
        expect(early.stderr).to.match(/whose worker is gone: undo it with "oob revert/);
        await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(left.deadline!) - Date.now()) + 100));
      }
      // the next change of the profile resolves it first: killed mid-apply, or past its deadline, it is reverted
      const next = await lab.oob(['down', lab.profile]);
      expect(next.code, `after ${delayMs} ms: ${next.stderr}`).to.equal(0);
      expect(next.stderr, `after ${delayMs} ms`).to.match(
        /is gone and it was applying|is gone and .*: reverting it now|never/,
      );
      expect(await hostJson(), `after a kill ${delayMs} ms into the apply`).to.deep.equal(before);
      expect(await lab.namespaces(), `after ${delayMs} ms`).not.to.include(lab.profile);
      expect(await pending(), `after ${delayMs} ms`).to.equal(null);
    }
  });

  it('garbage in the pending file: every change and confirm/revert refuses with one line naming it, nothing changes', async () => {
    await fsp.mkdir(path.dirname(file()), { recursive: true });
    for (const junk of ['{"version":1,"profile":', '{"version":1,"profile":"x","what":"rm -rf","state":"waiting"}']) {
      await fsp.writeFile(file(), junk);
      const before = await hostJson();
      for (const args of [
        ['up', lab.profile],
        ['up', lab.profile, '--confirm=5s'],
        ['confirm', lab.profile],
        ['revert', lab.profile],
      ]) {
        const r = await lab.oob(args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(7);
        expect(r.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
        expect(r.stderr)
          .to.include(file())
          .and.match(/remove it/);
      }
      const st = await lab.oob(['status', lab.profile, '--json']);
      expect(st.stderr).not.to.match(/\n\s+at /); // no stack trace
      expect(await hostJson()).to.deep.equal(before);
      expect(await fsp.readFile(file(), 'utf8')).to.equal(junk); // not acted on, not removed
    }
    await fsp.rm(file());
  });

  it('confirm twice, revert after confirm: the second says there is nothing waiting (and how the last one ended); the plane stays', async () => {
    const bg = background(['up', lab.profile, '--confirm=60s']);
    await waitFor('the change to wait', async () => (await pending())?.state === 'waiting');
    expect((await lab.oob(['confirm', lab.profile])).code).to.equal(0);
    expect((await bg.done).code).to.equal(0);
    for (const verb of ['confirm', 'revert']) {
      const r = await lab.oob([verb, lab.profile]);
      expect(r.code, verb).to.equal(7);
      expect(r.stderr).to.match(new RegExp(`has no change waiting for confirmation \\(the last one: up confirmed at `));
    }
    expect(await lab.namespaces()).to.include(lab.profile);
    expect((await lab.oob(['down', lab.profile])).code).to.equal(0);
  });

  it('two --confirm changes racing for one profile: exactly one gets it, the other is refused (exit 9) and changes nothing', async () => {
    const before = await hostJson();
    const a = background(['up', lab.profile, '--confirm=60s']);
    const b = background(['up', lab.profile, '--confirm=60s']);
    const first = await Promise.race([a.done, b.done]);
    expect(first.code, first.stderr).to.equal(9);
    expect(first.stderr).to.match(/waiting for confirmation|starting a confirmed change/);
    await waitFor('the change to wait', async () => (await pending())?.state === 'waiting');
    const rv = await lab.oob(['revert', lab.profile]);
    expect(rv.code, rv.stderr).to.equal(0);
    const codes = [(await a.done).code!, (await b.done).code!].sort((x, y) => x - y);
    expect(codes).to.deep.equal([9, 10]);
    expect(await hostJson()).to.deep.equal(before);
  });
});
