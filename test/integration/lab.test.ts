// The lab itself: what runs in its namespaces ends with it, also in a namespace whose name was
// deleted under it (which the kernel keeps alive, nameless, for as long as a process runs in it).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { netnsOf, startTime } from '../../src/sys/proc.js';
import { isRoot, Lab, made, must, namesByInode, waitFor } from './lab.js';

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

  it('destroy ends a process in a namespace whose name was deleted behind its back, and the namespace with it', async () => {
    const lab = await Lab.create();
    let pid = 0;
    try {
      const ns = await lab.addNs('x');
      pid = await sleeper(ns);
      const id = (await netnsOf(pid))!;
      await must(['ip', 'netns', 'del', ns]);
      expect(await lab.namespaces()).not.to.include(ns);
      expect([...(await namesByInode()).keys()], 'the namespace has no name now').not.to.include(id);
      expect(await startTime(pid), 'the process keeps running in it').not.to.equal(undefined);
      expect(made.namespaces.get(id)).to.equal(ns);
    } finally {
      await lab.destroy();
    }
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
});
