import { expect } from 'chai';
import { afterExit, noHistory, type BackoffPolicy, type ExitHistory } from '../../../src/supervise/backoff.js';

const policy: BackoffPolicy = { restart: 'always', restartDelayMs: 500, restartDelayMaxMs: 30_000 };

describe('supervise/backoff: when to start again, from (history, policy, now)', () => {
  it('doubles the delay with each quick failure, up to the maximum', () => {
    let h: ExitHistory = noHistory();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = afterExit(h, policy, { failure: true, ranForMs: 100 }, 1_000_000 + i * 100_000);
      if (r.action !== 'restart') throw new Error(r.action);
      delays.push(r.delayMs);
      h = r.history;
    }
    expect(delays).to.deep.equal([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('a run of 10 s or more resets the delay to the base', () => {
    const h: ExitHistory = { failures: 6, exits: [], crashLoop: undefined };
    const at = (ranForMs: number) => afterExit(h, policy, { failure: true, ranForMs }, 5_000_000);
    expect(at(9_999)).to.deep.include({ action: 'restart', delayMs: 30_000 });
    expect(at(10_000)).to.deep.include({ action: 'restart', delayMs: 500 });
  });

  it('5 exits within 60 s begin a crash loop; the 6th keeps its start; older exits fall out of the window', () => {
    const t0 = 10_000_000;
    const h: ExitHistory = { failures: 4, exits: [t0 - 59_000, t0 - 30_000, t0 - 20_000, t0 - 10_000] };
    const r = afterExit(h, policy, { failure: true, ranForMs: 50 }, t0);
    expect(r).to.deep.include({ action: 'restart', crashLoopBegan: true });
    if (r.action !== 'restart') throw new Error();
    expect(r.history.crashLoop).to.deep.equal({ exits: 5, windowSec: 60, since: new Date(t0).toISOString() });
    const r2 = afterExit(r.history, policy, { failure: true, ranForMs: 50 }, t0 + 2000);
    if (r2.action !== 'restart') throw new Error();
    expect(r2.crashLoopBegan).to.equal(false);
    expect(r2.history.crashLoop).to.deep.equal({ exits: 5, windowSec: 60, since: new Date(t0).toISOString() });
    expect(r2.history.exits).to.have.length(5);
    const calm = afterExit(
      { failures: 4, exits: [t0 - 61_000, t0 - 60_000, t0 - 20_000, t0 - 10_000] },
      policy,
      { failure: true, ranForMs: 50 },
      t0,
    );
    expect(calm).to.deep.include({ crashLoopBegan: false });
    if (calm.action !== 'restart') throw new Error();
    expect(calm.history.crashLoop).to.equal(undefined);
  });

  it('a stable run ends a crash loop; a quick one keeps it', () => {
    const loop = { exits: 5, windowSec: 60, since: 'x' };
    const r = afterExit(
      { failures: 3, exits: [1], crashLoop: loop },
      policy,
      { failure: true, ranForMs: 20_000 },
      200_000,
    );
    if (r.action !== 'restart') throw new Error();
    expect(r.history.crashLoop).to.equal(undefined);
    const q = afterExit(
      { failures: 3, exits: [150_000], crashLoop: loop },
      policy,
      { failure: true, ranForMs: 20 },
      200_000,
    );
    if (q.action !== 'restart') throw new Error();
    expect(q.history.crashLoop).to.equal(loop);
  });

  it('restart = no and on-failure: stop or fail instead of restarting', () => {
    const h = noHistory();
    expect(afterExit(h, { ...policy, restart: 'no' }, { failure: false, ranForMs: 1 }, 0)).to.deep.equal({
      action: 'stop',
    });
    expect(afterExit(h, { ...policy, restart: 'no' }, { failure: true, ranForMs: 1 }, 0)).to.deep.equal({
      action: 'fail',
    });
    expect(afterExit(h, { ...policy, restart: 'on-failure' }, { failure: false, ranForMs: 1 }, 0)).to.deep.equal({
      action: 'stop',
    });
    expect(afterExit(h, { ...policy, restart: 'on-failure' }, { failure: true, ranForMs: 1 }, 0)).to.deep.include({
      action: 'restart',
      delayMs: 500,
    });
    expect(afterExit(h, policy, { failure: false, ranForMs: 1 }, 0)).to.deep.include({ action: 'restart' });
  });
});
