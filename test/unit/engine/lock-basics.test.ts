import { expect } from 'chai';
import { promises as fsp } from 'node:fs';
import { acquireLock } from '../../../src/engine/lock.js';
import { OobError } from '../../../src/errors.js';

describe('lock', () => {
  const dir = `/tmp/oob-lock-test-${process.pid}`;
  after(() => fsp.rm(dir, { recursive: true, force: true }));
  it('lets one holder in at a time, per profile, and frees the lock on release', async () => {
    const a = await acquireLock(dir, 'p1', 0);
    const err = await acquireLock(dir, 'p1', 100).catch((e) => e);
    expect(err).to.be.instanceOf(OobError).with.property('code', 'busy');
    const other = await acquireLock(dir, 'p2', 0); // another profile is independent
    await other.release();
    const waiting = acquireLock(dir, 'p1', 2000);
    setTimeout(() => void a.release(), 50);
    const b = await waiting;
    await b.release();
  });
});
