import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { startTime } from '../../../src/sys/proc.js';
import { terminate } from '../../../src/sys/terminate.js';

/** A real child process; resolves once it has printed "ready" (its traps are then in place). */
async function child(
  script: string,
): Promise<{ p: ChildProcess; pid: number; ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
  const p = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  kids.push(p);
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    p.once('exit', (code, signal) => r({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    p.once('exit', () => reject(new Error(`the child ended before it was ready: ${script}`)));
  });
  return { p, pid: p.pid!, ended };
}

let kids: ChildProcess[] = [];

describe('sys/terminate: signal, grace, SIGKILL, wait (real processes)', () => {
  afterEach(() => {
    for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
    kids = [];
  });

  it('ends a process that dies on SIGTERM with SIGTERM alone, and waits until it is gone', async () => {
    const c = await child('echo ready; exec sleep 30');
    const killed: number[][] = [];
    const left = await terminate([{ pid: c.pid, start: await startTime(c.pid) }], {
      graceMs: 10_000,
      onKill: (p) => killed.push(p),
    });
    expect(left).to.deep.equal([]);
    expect(await startTime(c.pid), 'gone (a zombie counts as gone)').to.equal(undefined);
    expect(await c.ended).to.deep.equal({ code: null, signal: 'SIGTERM' });
    expect(killed).to.deep.equal([]);
  });

  it('sends SIGKILL after the grace to a process that ignores SIGTERM', async () => {
    const c = await child('trap "" TERM; echo ready; exec sleep 30');
    const killed: number[][] = [];
    const left = await terminate([c.pid], { graceMs: 200, onKill: (p) => killed.push(p) });
    expect(left).to.deep.equal([]);
    expect(killed).to.deep.equal([[c.pid]]);
    expect(await c.ended).to.deep.equal({ code: null, signal: 'SIGKILL' });
  });

  it('uses the signal it is given (SIGINT here)', async () => {
    const c = await child('echo ready; exec sleep 30');
    expect(await terminate([c.pid], { signal: 'SIGINT', graceMs: 10_000 })).to.deep.equal([]);
    expect((await c.ended).signal).to.equal('SIGINT');
  });

  it('never signals a pid whose start time is not the one it was given (a reused pid)', async () => {
    const c = await child('echo ready; exec sleep 30');
    const start = (await startTime(c.pid))!;
    const killed: number[][] = [];
    expect(
      await terminate([{ pid: c.pid, start: start + 1 }], { graceMs: 100, onKill: (p) => killed.push(p) }),
    ).to.deep.equal([]);
    expect(killed).to.deep.equal([]);
    expect(await startTime(c.pid), 'still running, untouched').to.equal(start);
    expect([c.p.exitCode, c.p.signalCode]).to.deep.equal([null, null]);
  });

  it('ends several at once, each as it needs', async () => {
    const soft = await child('echo ready; exec sleep 30');
    const hard = await child('trap "" TERM; echo ready; exec sleep 30');
    const killed: number[][] = [];
    const left = await terminate([soft.pid, hard.pid], { graceMs: 200, onKill: (p) => killed.push(p) });
    expect(left).to.deep.equal([]);
    expect(killed).to.deep.equal([[hard.pid]]);
    expect([(await soft.ended).signal, (await hard.ended).signal]).to.deep.equal(['SIGTERM', 'SIGKILL']);
  });

  it('does nothing for targets that are already gone', async () => {
    const c = await child('echo ready; exec sleep 30');
    const start = await startTime(c.pid);
    c.p.kill('SIGKILL');
    await c.ended;
    const killed: number[][] = [];
    // with its start time: were the pid reused meanwhile, the newcomer must not be signalled
    expect(await terminate([{ pid: c.pid, start }], { graceMs: 100, onKill: (p) => killed.push(p) })).to.deep.equal([]);
    expect(killed).to.deep.equal([]);
  });
});
