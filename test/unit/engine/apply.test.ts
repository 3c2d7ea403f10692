// apply with an Io the test builds: file effects and ip lines fail where the test says, for real
// in the engine's eyes (no hook in src/); dependencies between steps stop what needs a failed step.
import { expect } from 'chai';
import { applyAtomic, applyBestEffort } from '../../../src/engine/apply.js';
import { OobError } from '../../../src/errors.js';
import type { Step } from '../../../src/plan/types.js';
import type { FileEffects, Io } from '../../../src/sys/io.js';
import type { RunOptions } from '../../../src/sys/run.js';

/** An Io that records every effect (ip lines, file writes and removals) and fails those `bad` names. */
function testIo(bad: (effect: string) => boolean) {
  const log: string[] = [];
  const effect = async (e: string) => {
    if (bad(e)) throw new Error(`EROFS: read-only file system (${e})`);
    log.push(e);
  };
  const fs: FileEffects = {
    write: (f) => effect(`write ${f}`),
    remove: (f) => effect(`rm ${f}`),
    removeDirIfEmpty: (d) => effect(`rmdir ${d}`),
  };
  const io: Io = {
    run: async (argv: readonly string[], opts: RunOptions = {}) => {
      const prefix = argv.includes('-n') ? `[${argv[argv.indexOf('-n') + 1]}] ` : '';
      const lines = (opts.input ?? '').split('\n').filter(Boolean);
      let stderr = '';
      for (const [i, l] of lines.entries()) {
        if (bad(prefix + l)) {
          stderr += `Cannot find device\nCommand failed -:${i + 1}\n`;
          if (!argv.includes('-force')) break;
        } else log.push(prefix + l);
      }
      return { code: stderr ? 1 : 0, stdout: '', stderr };
    },
    fs,
    log: { info() {}, warn() {} },
    paths: { profileDir: '/p', runtimeDir: '/r', netnsEtcDir: '/e', netnsRunDir: '/n' },
    hostPid: 1,
    env: {},
  };
  return { io, log };
}

const ip = (ns: string | null, line: string, o: Partial<Step> = {}): Step =>
  ({ kind: 'ip', ns, args: line.split(' '), title: line, undo: [], ...o }) as Step;
const write = (path: string, undo: Step[]): Step => ({
  kind: 'write',
  path,
  content: 'x\n',
  mode: 0o600,
  title: `write ${path}`,
  undo,
});
const rm = (path: string): Step => ({ kind: 'remove', path, title: `rm ${path}`, undo: [] });

describe('engine/apply: effects through the Io', () => {
  const plan = (): Step[] => [
    write('/r/m/nic.json', [rm('/r/m/nic.json')]),
    ip(null, 'netns add m', { undo: [ip(null, 'netns del m')] }),
    ip('m', 'link set dev e up', { undo: [ip('m', 'link set dev e down')] }),
    write('/e/m/resolv.conf', [
      rm('/e/m/resolv.conf'),
      { kind: 'remove', path: '/e/m', dir: true, title: 'rmdir', undo: [] },
    ]),
  ];

  it('a file write that fails undoes what was done before it, in reverse, files included', async () => {
    const { io, log } = testIo((e) => e === 'write /e/m/resolv.conf');
    const err = (await applyAtomic(io, plan()).catch((e) => e)) as OobError;
    expect(err.code).to.equal('rolledBack');
    expect(err.message).to.match(/^write \/e\/m\/resolv\.conf failed \(write \/e\/m\/resolv\.conf .*EROFS/);
    expect(log).to.deep.equal([
      'write /r/m/nic.json',
      'netns add m',
      '[m] link set dev e up',
      '[m] link set dev e down',
      'netns del m',
      'rm /r/m/nic.json',
    ]);
  });

  it('the first step (a file) failing leaves nothing to undo', async () => {
    const { io, log } = testIo((e) => e === 'write /r/m/nic.json');
    const err = (await applyAtomic(io, plan()).catch((e) => e)) as OobError;
    expect(err.message).to.match(/rolled back the 0 step\(s\)/);
    expect(log).to.deep.equal([]);
  });

  it('an undo file removal that fails is reported as left to do', async () => {
    const { io } = testIo((e) => e === '[m] link set dev e up' || e === 'rm /r/m/nic.json');
    const err = (await applyAtomic(io, plan()).catch((e) => e)) as OobError;
    expect(err.code).to.equal('rollbackIncomplete');
    expect(err.details[0]).to.match(/^still to undo: rm -f \/r\/m\/nic\.json {3}\(EROFS/);
  });
});

describe('engine/apply: a step that needs a failed step is not run', () => {
  const down = (): Step[] => [
    ip('m', 'link set dev e down', { id: 'nicdown' }),
    ip('m', 'link set dev e name t', { id: 'tmp', needs: ['nicdown'] }),
    ip('m', 'link set dev t netns 1', { id: 'out', needs: ['tmp'] }),
    ip(null, 'link set dev t name e', { id: 'name', needs: ['out'] }),
    ip(null, 'link set dev e mtu 1400', { id: 'r0', needs: ['name'] }),
    ip(null, 'netns del m', { id: 'del', needs: ['out'] }),
    rm('/e/m/resolv.conf'),
    { ...rm('/r/m/nic.json'), needs: ['name', 'r0'] },
  ];

  it('a failed move-back stops the rename, the restore, the namespace deletion and the record removal; the rest runs', async () => {
    const { io, log } = testIo((e) => e === '[m] link set dev t netns 1');
    const failures = await applyBestEffort(io, down());
    expect(failures.map((f) => [f.step.title, f.skipped ?? false])).to.deep.equal([
      ['link set dev t netns 1', false],
      ['link set dev t name e', true],
      ['link set dev e mtu 1400', true],
      ['netns del m', true],
      ['rm /r/m/nic.json', true],
    ]);
    expect(failures[1]!.message).to.equal('not run: it needs "link set dev t netns 1"');
    expect(log).to.deep.equal(['[m] link set dev e down', '[m] link set dev e name t', 'rm /e/m/resolv.conf']);
  });

  it('a failed rename in the host keeps the NIC out of the namespace, unconfigured, and the record', async () => {
    const { io, log } = testIo((e) => e === 'link set dev t name e');
    const failures = await applyBestEffort(io, down());
    expect(failures.map((f) => f.step.title)).to.deep.equal([
      'link set dev t name e',
      'link set dev e mtu 1400',
      'rm /r/m/nic.json',
    ]);
    expect(log)
      .to.include('netns del m')
      .and.to.include('[m] link set dev t netns 1')
      .and.not.to.include('link set dev e mtu 1400');
  });

  it('without failures, steps that need others share batches only where they do not depend on one another', async () => {
    const calls: string[] = [];
    const { io } = testIo(() => false);
    const run = io.run;
    io.run = (argv, opts) => (calls.push((opts?.input ?? '').trim().split('\n').join('; ')), run(argv, opts));
    expect(await applyBestEffort(io, down())).to.deep.equal([]);
    expect(calls).to.deep.equal([
      'link set dev e down',
      'link set dev e name t',
      'link set dev t netns 1',
      'link set dev t name e',
      'link set dev e mtu 1400; netns del m',
    ]);
  });
});
