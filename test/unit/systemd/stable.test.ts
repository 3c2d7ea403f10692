import { expect } from 'chai';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unstableReason } from '../../../src/systemd/stable.js';

describe('systemd/stable: what a unit may run', () => {
  it('accepts root-owned lasting paths: node, /usr/bin/env', async () => {
    expect(await unstableReason(process.execPath)).to.equal(undefined);
    expect(await unstableReason('/usr/bin/env')).to.equal(undefined);
  });

  it('refuses temporary and per-user directories, and paths that do not exist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oob-stable-'));
    try {
      writeFileSync(join(dir, 'oob.cjs'), '');
      expect(await unstableReason(join(dir, 'oob.cjs'))).to.match(/ is under \/tmp, which is temporary or one user's$/);
      expect(await unstableReason('/root')).to.match(/^\/root is under \/root/);
      expect(await unstableReason('/home/someone/oob/dist/oob.cjs')).to.match(/does not exist$/);
      expect(await unstableReason('/dev/shm')).to.match(/under \/dev\/shm/);
      expect(await unstableReason('/var/tmp')).to.match(/under \/var\/tmp/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a path another user owns or every user may write, anywhere along it (needs root to chown)', async function () {
    if (process.geteuid?.() !== 0) this.skip();
    const dir = mkdtempSync('/var/lib/oob-stable-test-');
    try {
      mkdirSync(join(dir, 'a'));
      writeFileSync(join(dir, 'a', 'oob.cjs'), '');
      expect(await unstableReason(join(dir, 'a', 'oob.cjs'))).to.equal(undefined);
      symlinkSync(join(dir, 'a'), join(dir, 'link'));
      expect(await unstableReason(join(dir, 'link', 'oob.cjs'))).to.equal(undefined);
      chownSync(join(dir, 'a'), 1000, 1000);
      expect(await unstableReason(join(dir, 'link', 'oob.cjs'))).to.equal(`${dir}/a is owned by uid 1000, not by root`);
      chownSync(join(dir, 'a'), 0, 0);
      chmodSync(join(dir, 'a'), 0o777);
      expect(await unstableReason(join(dir, 'a', 'oob.cjs'))).to.equal(`${dir}/a is writable by every user`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
