import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { earlyPrestart, mountedNetnsId, NS_POLL_MS } from '../../../src/supervise/prestart.js';
import { def, FakeHost, flush, NS_ID } from './fake-host.js';

const CHECKS = {
  prestart: [
    ['mkdir', '-p', '/run/sshd'],
    ['/usr/sbin/sshd', '-t'],
  ],
  prestartBeforeUp: true,
};

/** earlyPrestart on a fake host; the namespace's id as the test sets it, up ended when the test says. */
function early(o: Partial<ReturnType<typeof def>> = {}, ns?: string) {
  const host = new FakeHost();
  const w = { ns, upEnded: false };
  const result = earlyPrestart(def({ ...CHECKS, ...o }), {
    host,
    ns: 'mgmt',
    env: { PATH: '/usr/bin' },
    nsId: async () => w.ns,
    upEnded: () => w.upEnded,
  });
  return { host, w, result };
}

describe("supervise/prestart: the first start's pre-start commands while the network comes up", () => {
  it('waits for the namespace, runs the commands in it in order, and gives its id when all passed', async () => {
    const { host, w, result } = early({ user: 'nobody' });
    await host.clock.advance(NS_POLL_MS * 3);
    expect(host.runs, 'nothing before the namespace is there').to.deep.equal([]);
    w.ns = NS_ID;
    await host.clock.advance(NS_POLL_MS);
    const prefix = ['setpriv', '--reuid=65534', '--regid=65534', '--init-groups', '--'];
    expect(host.runs).to.deep.equal([
      ['ip', 'netns', 'exec', 'mgmt', ...prefix, 'mkdir', '-p', '/run/sshd'],
      ['ip', 'netns', 'exec', 'mgmt', ...prefix, '/usr/sbin/sshd', '-t'],
    ]);
    expect(await result).to.equal(NS_ID);
  });

  it('a command that fails: no id (the start runs them again and reports it), and the rest does not run', async () => {
    const host = new FakeHost();
    host.runResults.set('/run/sshd', { code: 1, message: 'mkdir: cannot create directory' });
    const result = earlyPrestart(def(CHECKS), {
      host,
      ns: 'mgmt',
      env: {},
      nsId: async () => NS_ID,
      upEnded: () => false,
    });
    expect(await result).to.equal(undefined);
    expect(host.runs).to.have.length(1);
  });

  it('the namespace replaced while they ran: no id', async () => {
    const host = new FakeHost();
    const w = { ns: NS_ID };
    host.run = async (argv) => {
      host.runs.push([...argv]);
      w.ns = 'net:[4026533000]';
      return { code: 0, message: '' };
    };
    const result = earlyPrestart(def(CHECKS), {
      host,
      ns: 'mgmt',
      env: {},
      nsId: async () => w.ns,
      upEnded: () => false,
    });
    expect(await result).to.equal(undefined);
    expect(host.runs).to.have.length(2);
  });

  it('up ended with no namespace (it failed): nothing runs, no id', async () => {
    const { host, w, result } = early();
    await host.clock.advance(NS_POLL_MS * 2);
    w.upEnded = true;
    await host.clock.advance(NS_POLL_MS);
    expect(await result).to.equal(undefined);
    expect(host.runs).to.deep.equal([]);
  });

  it('an unknown user: nothing runs, no id (the start says why)', async () => {
    const { host, result } = early({ user: 'nosuch' }, NS_ID);
    await flush();
    expect(await result).to.equal(undefined);
    expect(host.runs).to.deep.equal([]);
  });

  it('mountedNetnsId: a namespace file gives its id, a plain file (ip netns add before its mount) none', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'oob-prestart-'));
    try {
      await writeFile(path.join(dir, 'plain'), '');
      expect(await mountedNetnsId(path.join(dir, 'plain'))).to.equal(undefined);
      expect(await mountedNetnsId(path.join(dir, 'missing'))).to.equal(undefined);
      expect(await mountedNetnsId('/proc/self/ns/net')).to.match(/^net:\[\d+\]$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
