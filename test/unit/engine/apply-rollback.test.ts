import { expect } from 'chai';
import { applyAtomic, applyBestEffort, parseBatchErrors, quoteBatchArg } from '../../../src/engine/apply.js';
import { OobError } from '../../../src/errors.js';
import type { Io } from '../../../src/sys/io.js';
import type { RunOptions } from '../../../src/sys/run.js';
import type { Step } from '../../../src/plan/types.js';

/** A runner that records every ip line it is given, and fails the k-th line over the whole run. */
function recordingIo(failAt: number | ((line: string) => boolean)) {
  const lines: string[] = [];
  const calls: string[][] = [];
  let n = 0;
  const io: Io = {
    run: async (argv: readonly string[], opts: RunOptions = {}) => {
      calls.push([...argv]);
      const prefix = argv.includes('-n') ? `[${argv[argv.indexOf('-n') + 1]}] ` : '';
      const input = (opts.input ?? '').split('\n').filter(Boolean);
      const force = argv.includes('-force');
      let stderr = '';
      let code = 0;
      for (let i = 0; i < input.length; i++) {
        n++;
        const bad = typeof failAt === 'number' ? n === failAt : failAt(input[i]!);
        if (bad) {
          stderr += `RTNETLINK answers: File exists\nCommand failed -:${i + 1}\n`;
          code = 1;
          if (!force) break;
        } else lines.push(prefix + input[i]);
      }
      return { code, stdout: '', stderr };
    },
    log: { info() {}, warn() {} },
    paths: { profileDir: '/p', runtimeDir: '/r', netnsEtcDir: '/e', netnsRunDir: '/n' },
    hostPid: 1,
    env: {},
  };
  return { io, lines, calls };
}

const ip = (ns: string | null, line: string, undo: string[] = []): Step => ({
  kind: 'ip',
  ns,
  args: line.split(' '),
  title: line,
  undo: undo.map((u) => ({ kind: 'ip', ns, args: u.split(' '), title: `undo ${line}`, undo: [] })),
});
const plan = (): Step[] => [
  ip(null, 'netns add m', ['netns del m']),
  ip(null, 'link set dev e netns m', []),
  ip('m', 'link set dev e up', ['link set dev e down']),
  ip('m', 'addr add 10.0.0.1/24 dev e', ['addr del 10.0.0.1/24 dev e']),
  ip('m', 'route replace 0.0.0.0/0 via 10.0.0.20 dev e', ['route del 0.0.0.0/0 via 10.0.0.20 dev e']),
];

describe('apply', () => {
  it('runs one ip -batch process per run of steps in the same namespace', async () => {
    const { io, lines, calls } = recordingIo(-1);
    await applyAtomic(io, plan());
    expect(calls).to.deep.equal([
      ['ip', '-batch', '-'],
      ['ip', '-n', 'm', '-batch', '-'],
    ]);
    expect(lines).to.have.length(5);
  });

  for (let k = 1; k <= 5; k++) {
    it(`when step ${k} of 5 fails, undoes steps ${k - 1}..1 in reverse order and says so`, async () => {
      const { io, lines } = recordingIo(k);
      const err = await applyAtomic(io, plan()).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(OobError);
      expect((err as OobError).code).to.equal('rolledBack');
      expect((err as OobError).message)
        .to.contain(plan()[k - 1]!.title)
        .and.contain('File exists');
      const done = lines.slice(0, k - 1);
      const undone = lines.slice(k - 1);
      const expectedUndo = plan()
        .slice(0, k - 1)
        .reverse()
        .flatMap((s) =>
          s.undo.map(
            (u) => `${u.kind === 'ip' && u.ns ? `[${u.ns}] ` : ''}${(u as { args: string[] }).args.join(' ')}`,
          ),
        );
      expect(done).to.deep.equal(
        plan()
          .slice(0, k - 1)
          .map((s) => `${(s as { ns: string | null }).ns ? `[${(s as { ns: string }).ns}] ` : ''}${s.title}`),
      );
      expect(undone).to.deep.equal(expectedUndo);
    });
  }

  it('reports a rollback that could not finish, with the commands left to run', async () => {
    const { io } = recordingIo((l) => l.startsWith('route') || l === 'netns del m');
    const err = (await applyAtomic(io, plan()).catch((e) => e)) as OobError;
    expect(err.code).to.equal('rollbackIncomplete');
    expect(err.details[0]).to.equal('still to undo: ip netns del m   (RTNETLINK answers: File exists)');
  });

  it('in best-effort mode (down) runs everything and reports each failure', async () => {
    const { io, lines } = recordingIo((l) => l.includes('addr'));
    const failures = await applyBestEffort(io, plan());
    expect(failures.map((f) => f.step.title)).to.deep.equal(['addr add 10.0.0.1/24 dev e']);
    expect(lines).to.have.length(4);
  });

  it('parses ip -batch errors and quotes arguments for a batch line', () => {
    expect([
      ...parseBatchErrors('Error: x.\nCommand failed -:2\nCannot find device "q"\nCommand failed -:5\n'),
    ]).to.deep.equal([
      [2, 'Error: x.'],
      [5, 'Cannot find device "q"'],
    ]);
    expect(quoteBatchArg('')).to.equal('""');
    expect(quoteBatchArg('uplink to switch')).to.equal('"uplink to switch"');
    expect(quoteBatchArg('oob:mgmt:ens19')).to.equal('oob:mgmt:ens19');
  });
});
