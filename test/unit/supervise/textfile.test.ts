import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Textfile } from '../../../src/supervise/textfile.js';
import { until } from '../../../src/sys/until.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rendered = (n: () => number) => until(() => n() >= 1, { intervalMs: 10, timeoutMs: 10_000 });

describe('supervise/textfile: the metrics file', () => {
  it('held at start-up: a change is written only at release() (the services are ready), then as before', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'oob-textfile-'));
    const file = path.join(dir, 'oob_mgmt.prom');
    let renders = 0;
    const t = new Textfile({ dir, file, intervalMs: 60_000, render: async () => `x ${++renders}\n`, log: () => {} });
    try {
      t.holdUntil(Date.now() + 60_000);
      t.changed();
      await tick(100);
      expect(renders, 'no reading of the system while held').to.equal(0);
      t.release();
      const text = await until(() => readFile(file, 'utf8').catch(() => undefined), {
        intervalMs: 10,
        timeoutMs: 10_000,
      });
      expect(text).to.equal('x 1\n');
      expect(renders).to.equal(1);
      t.release(); // a second release changes nothing
      await tick(50);
      expect(renders).to.equal(1);
    } finally {
      await t.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("held: a change is written at the hold's end when nothing releases it", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'oob-textfile-'));
    const file = path.join(dir, 'oob_mgmt.prom');
    let renders = 0;
    const t = new Textfile({ dir, file, intervalMs: 60_000, render: async () => `x ${++renders}\n`, log: () => {} });
    try {
      t.holdUntil(Date.now() + 200);
      t.changed();
      await tick(50);
      expect(renders).to.equal(0);
      await rendered(() => renders);
      expect(renders).to.equal(1);
    } finally {
      await t.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
