import { expect } from 'chai';
import { until } from '../../../src/sys/until.js';

/** A clock that only moves when the loop sleeps: no real time passes, every wait is recorded. */
function fakeClock() {
  let t = 1000;
  const waits: number[] = [];
  return {
    waits,
    now: () => t,
    sleep: async (ms: number) => {
      waits.push(ms);
      t += ms;
    },
  };
}

describe('sys/until: the one poll loop', () => {
  it('returns the first value that is not undefined or false, and asks no further', async () => {
    const c = fakeClock();
    const answers = [undefined, false, 0, 7];
    let asked = 0;
    const v = await until(() => answers[asked++], { intervalMs: 10, timeoutMs: 1000, now: c.now, sleep: c.sleep });
    expect(v).to.equal(0); // 0 is a value: only undefined and false mean "not yet"
    expect(asked).to.equal(3);
    expect(c.waits).to.deep.equal([10, 10]);
  });

  it('gives undefined once the time is up, never sleeping past the deadline', async () => {
    const c = fakeClock();
    let asked = 0;
    const v = await until(
      () => {
        asked++;
        return undefined;
      },
      { intervalMs: 30, timeoutMs: 100, now: c.now, sleep: c.sleep },
    );
    expect(v).to.equal(undefined);
    expect(c.waits).to.deep.equal([30, 30, 30, 10]);
    expect(asked).to.equal(5); // once more at the deadline itself
  });

  it('asks at least once, even with no time at all', async () => {
    const c = fakeClock();
    expect(await until(() => 'here', { intervalMs: 10, timeoutMs: 0, now: c.now, sleep: c.sleep })).to.equal('here');
    let asked = 0;
    expect(
      await until(() => (asked++, undefined), { intervalMs: 10, timeoutMs: 0, now: c.now, sleep: c.sleep }),
    ).to.equal(undefined);
    expect(asked).to.equal(1);
    expect(c.waits).to.deep.equal([]);
  });

  it('awaits an async question, and lets its error through', async () => {
    const c = fakeClock();
    let n = 0;
    expect(
      await until(async () => (++n === 3 ? { n } : undefined), {
        intervalMs: 5,
        timeoutMs: 100,
        now: c.now,
        sleep: c.sleep,
      }),
    ).to.deep.equal({ n: 3 });
    let err: unknown;
    await until(
      async () => {
        throw new Error('boom');
      },
      { intervalMs: 5, timeoutMs: 100, now: c.now, sleep: c.sleep },
    ).catch((e: unknown) => (err = e));
    expect((err as Error).message).to.equal('boom');
  });

  it('uses the real clock and timers when none is given', async () => {
    let n = 0;
    expect(await until(() => (++n === 2 ? 'second' : undefined), { intervalMs: 1, timeoutMs: 5000 })).to.equal(
      'second',
    );
  });
});
