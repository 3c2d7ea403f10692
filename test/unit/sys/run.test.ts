import { expect } from 'chai';
import { CommandError, CommandTimeout, spawnRunner, startLongRunning } from '../../../src/sys/run.js';

describe('sys/run: every command bounded in time; a long-running process ends at its exit', () => {
  it('kills a command that outlives its timeout and rejects with a clear error (exit 124)', async () => {
    const e = await spawnRunner(['sleep', '30'], { timeoutMs: 200 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).to.be.instanceOf(CommandTimeout);
    expect(e).to.be.instanceOf(CommandError);
    expect((e as CommandTimeout).result.code).to.equal(124);
    expect((e as Error).message).to.equal('sleep 30: no result after 0.2 s: killed');
  });

  it('also with allowFail, and also when a child of the command holds its output open', async () => {
    const e = await spawnRunner(['sh', '-c', 'sleep 30 & exec sleep 30'], { timeoutMs: 200, allowFail: true }).catch(
      (x: unknown) => x,
    );
    expect(e).to.be.instanceOf(CommandTimeout);
  });

  it('a command within its time is unchanged', async () => {
    expect(await spawnRunner(['sh', '-c', 'echo hi; exit 3'], { allowFail: true })).to.deep.equal({
      code: 3,
      stdout: 'hi\n',
      stderr: '',
    });
  });

  it('startLongRunning: the exit comes when the process exits, though a child of it keeps stdout open', async () => {
    const { child, exit } = startLongRunning(['sh', '-c', 'sleep 30 & echo $!; exit 7'], process.env);
    let bg = 0;
    child.stdout!.on('data', (d) => (bg ||= Number(String(d).trim())));
    child.stderr!.resume();
    const r = await exit;
    for (let i = 0; i < 100 && !bg; i++) await new Promise((ok) => setTimeout(ok, 10));
    try {
      expect(r).to.deep.equal({ code: 7, signal: null });
      expect(bg).to.be.greaterThan(1);
      expect(child.stdout!.readableEnded, 'the output is still open: the child holds it').to.equal(false);
    } finally {
      if (bg > 1) process.kill(bg, 'SIGKILL');
    }
  });
});
