// The command line as users meet it: the real CLI in a child process (no root needed: a bad flag
// or name is refused before anything else is looked at).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkSeconds } from '../../../src/commands/common.js';
import { OobError } from '../../../src/errors.js';

const CLI = new URL('../../../src/cli.js', import.meta.url).pathname;

function oob(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, OOB_PROFILE_DIR: dir, OOB_RUNTIME_DIR: path.join(dir, 'run') };
  delete env.NODE_EXTRA_CA_CERTS; // as the CLI's shebang does: ~40 ms less per start
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
let dir = '';

describe('commands/common: numeric flags and names are checked before anything runs (the real CLI)', () => {
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'oob-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const refused: Array<[string[], RegExp]> = [
    [
      ['up', 'x', '--wait', 'abc'],
      /^oob: --wait takes a number of seconds from 0 to \d+, without a unit \(e\.g\. --wait 30\)$/,
    ],
    [['down', 'x', '--wait', '-1'], /^oob: --wait takes a number of seconds .*, not -1$/],
    [['up', 'x', '--wait', 'Infinity'], /^oob: --wait takes a number of seconds .*, not Infinity$/],
    [['start', 'x', '--timeout', '10s'], /^oob: --timeout takes a number of seconds from 0/],
    [['stop', 'x', '--timeout', '1', '--timeout', '2'], /^oob: --timeout .*; it was given 2 times$/],
    [['stop', '../x'], /^oob: "\.\.\/x" is not a valid profile\/namespace name/],
    [['status', 'ok', '../x'], /^oob: "\.\.\/x" is not a valid profile\/namespace name/],
    [
      ['status', '--format', 'xml'],
      /^oob: Invalid values: Argument: format, Given: "xml", Choices: "text", "json", "prometheus" \(oob --help/,
    ],
  ];
  for (const [args, msg] of refused)
    it(`oob ${args.join(' ')}: exit 2, one line on stderr, no stack, nothing on stdout`, () => {
      const r = oob(args);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
      expect(r.stderr.trimEnd()).to.match(msg);
      expect(r.stdout).to.equal('');
    });

  it('a good number passes the flag check (the command then fails on what comes next, not on --wait)', () => {
    const r = oob(['up', 'x', '--wait', '0.5']);
    expect(r.code).not.to.equal(2);
    expect(r.stderr)
      .to.match(/^oob: /)
      .and.not.to.match(/--wait/);
  });

  it('checkSeconds: numbers from 0 to the maximum pass as they are; anything else is a usage error', () => {
    expect([0, 0.5, 30, 1_000_000].map((v) => checkSeconds('wait', v))).to.deep.equal([0, 0.5, 30, 1_000_000]);
    for (const bad of [NaN, -0.1, Infinity, 1_000_001, undefined, '30', [1, 2]]) {
      let err: unknown;
      try {
        checkSeconds('wait', bad);
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).to.be.instanceOf(OobError);
      expect((err as OobError).code).to.equal('usage');
    }
  });
});

describe('cli: a reader that goes away (oob presets | true)', () => {
  it('ends quietly with exit 0: no EPIPE stack on stderr', () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    // `true` exits at once, long before node has started: every write of oob's meets EPIPE
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" presets | true`], {
      encoding: 'utf8',
      env,
      timeout: 20_000,
    });
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
  });
});
