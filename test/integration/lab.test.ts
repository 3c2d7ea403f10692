// The lab itself: what runs in its namespaces ends with it, also in a namespace whose name was
// deleted under it (which the kernel keeps alive, nameless, for as long as a process runs in it),
// and nothing that is not the lab's is touched.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { netnsOf, startTime } from '../../src/sys/proc.js';
import { terminate } from '../../src/sys/terminate.js';
import { isRoot, Lab, must, namesByInode, sh, waitFor } from './lab.js';

describe('integration: the test lab leaves nothing running', function () {
  before(function () {
    if (!isRoot()) {
      console.log('    SKIPPED: the lab tests need root (they create network namespaces)');
      this.skip();
    }
  });

  /** A process of the test's in namespace ns; returns its pid once it runs there. */
  async function sleeper(ns: string): Promise<number> {
    const c = spawn('ip', ['netns', 'exec', ns, 'sleep', '1000'], { detached: true, stdio: 'ignore' });
    c.unref();
    const id = [...(await namesByInode())].find(([, name]) => name === ns)![0];
    await waitFor(`sleep to run in ${ns}`, async () => (await netnsOf(c.pid!)) === id);
    return c.pid!;
  }
  /** Delete the name of a namespace with a process in it: the namespace lives on, nameless. */
  async function unname(ns: string, pid: number): Promise<void> {
    const id = (await netnsOf(pid))!;
    await must(['ip', 'netns', 'del', ns]);
    expect([...(await namesByInode()).keys()], 'the namespace has no name now').not.to.include(id);
    expect(await netnsOf(pid), 'the process keeps running in it').to.equal(id);
  }

  it("destroy ends a process in a namespace whose name was deleted behind its back (holding a link of the lab's, as the profile's holds the NIC)", async () => {
    const lab = await Lab.create();
    let pid = 0;
    try {
      const ns = await lab.addNs('x');
      await must(['ip', '-n', ns, 'link', 'add', `ot${lab.id}d`, 'type', 'veth', 'peer', 'name', `ot${lab.id}e`]);
      pid = await sleeper(ns);
      await unname(ns, pid);
    } finally {
      await lab.destroy();
    }
    expect(pid).to.be.greaterThan(0);
    expect(await startTime(pid), 'destroy ended it').to.equal(undefined);
  });

  it('destroy ends what runs in its named namespaces before deleting them', async () => {
    const lab = await Lab.create();
    const pids: number[] = [];
    try {
      pids.push(await sleeper(lab.host), await sleeper(lab.router));
    } finally {
      await lab.destroy();
    }
    expect(pids).to.have.length(2);
    expect(await Promise.all(pids.map(startTime))).to.deep.equal([undefined, undefined]);
    expect(await lab.namespaces()).to.deep.equal([]);
  });

  it("destroy leaves alone a process in a namespace without a name that is not the lab's", async () => {
    const other = `oobt-${randomBytes(3).toString('hex')}-other`;
    const lab = await Lab.create();
    let pid = 0;
    try {
      await must(['ip', 'netns', 'add', other]);
      pid = await sleeper(other);
      await unname(other, pid);
      await lab.destroy();
      expect(await startTime(pid), "a process not of the lab's was ended").not.to.equal(undefined);
    } finally {
      await lab.destroy();
      if (pid) await terminate([pid], { signal: 'SIGKILL', graceMs: 0 });
      await sh(['ip', 'netns', 'del', other]);
    }
    expect(await startTime(pid)).to.equal(undefined);
  });
});
