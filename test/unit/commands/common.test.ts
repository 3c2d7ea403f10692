// The command line as users meet it: the real CLI in a child process (no root needed: a bad flag
// or name is refused before anything else is looked at).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
    [
      ['stop', 'x', '--timeout', '1', '--timeout', '2'],
      /^oob: option --timeout given 2 times \("1", "2"\): it takes one value; give it once$/,
    ],
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

describe('cli: an unknown option is named first, with the option meant (the real CLI)', () => {
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'oob-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // every command, a typo with its positional given and (where it has one) without: a typo
  // before the name takes the name as its value, and yargs used to say only that a name was missing
  const typos: Array<[string[], string]> = [
    [['up', '--confrim', 'mgmt'], 'unknown option --confrim; did you mean --confirm?'],
    [['up', 'mgmt', '--confrim'], 'unknown option --confrim; did you mean --confirm?'],
    [['up', '--confrim'], 'unknown option --confrim; did you mean --confirm?'],
    [['down', '--forse', 'mgmt'], 'unknown option --forse; did you mean --force?'],
    [['down', '--wiat=3'], 'unknown option --wiat; did you mean --wait?'],
    [['enable', '--nwo', 'mgmt'], 'unknown option --nwo; did you mean --now?'],
    [['enable', 'mgmt', '--adress', '10.0.0.2/24'], 'unknown option --adress; did you mean --address?'],
    [['disable', '--conf'], 'unknown option --conf; did you mean --confirm?'],
    [['units', '--rot', '/x'], 'unknown option --rot; did you mean --root?'],
    [['start', '--timout', '5'], 'unknown option --timout; did you mean --timeout?'],
    [['stop', 'mgmt', '--timeuot=5'], 'unknown option --timeuot; did you mean --timeout?'],
    [['run', '--bogus', 'mgmt'], 'unknown option --bogus: oob run --help lists the options'],
    [['plan', '--froce'], 'unknown option --froce; did you mean --force?'],
    [['check', '--fiel', 'x.ini'], 'unknown option --fiel; did you mean --file?'],
    [['status', '--jsn'], 'unknown option --jsn; did you mean --json?'],
    [['status', 'mgmt', '--prbe'], 'unknown option --prbe; did you mean --probe?'],
    [['doctor', '--probee'], 'unknown option --probee; did you mean --probe?'],
    [['demo', '--kep'], 'unknown option --kep; did you mean --keep?'],
    [['presets', '--quite'], 'unknown option --quite; did you mean --quiet?'],
    [['confirm', '--bogus'], 'unknown option --bogus: oob confirm --help lists the options'],
    [['revert', 'mgmt', '-z'], 'unknown option -z: oob revert --help lists the options'],
    [['--profile-dri', '/x', 'status'], 'unknown option --profile-dri; did you mean --profile-dir?'],
    [
      ['up', 'mgmt', '--confrim', '--bogus'],
      'unknown option --confrim; did you mean --confirm? (also unknown: --bogus)',
    ],
  ];
  for (const [args, line] of typos)
    it(`oob ${args.join(' ')}: exit 2 and the one line "${line}", nothing created`, () => {
      const r = oob(args);
      expect(r.stderr.trimEnd()).to.equal(`oob: ${line}`);
      expect(r.code).to.equal(2);
      expect(r.stdout).to.equal('');
      expect(existsSync(path.join(dir, 'run')), 'the runtime directory').to.equal(false);
    });

  it('exec: an option of the command run there is unknown to oob, and the line says it goes after --', () => {
    const r = oob(['exec', 'mgmt', 'ls', '-l']);
    expect(r.code).to.equal(2);
    expect(r.stderr.trimEnd()).to.equal(
      "oob: unknown option -l: oob exec --help lists the options (the command's own options go after --: oob exec NAME -- CMD...)",
    );
  });

  it('what was right stays: a missing name, a mistyped command, --help', () => {
    expect(oob(['up']).stderr).to.match(/^oob: Not enough non-option arguments: got 0, need at least 1 \(oob --help/);
    expect(oob(['stauts', '--jsn']).stderr).to.match(/^oob: Did you mean status\? \(oob --help/);
    const help = oob(['up', '--confrim', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout)
      .to.match(/^oob up <names\.\.>/)
      .and.match(/--confirm/);
  });
});

describe('cli: an option that takes one value, given twice, is refused by name (the real CLI)', () => {
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'oob-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // yargs makes a repeated option a list, which the command took for a string: an internal error
  const twice: Array<[string[], string]> = [
    [['up', '--profile-dir', '/x', '--profile-dir=/y', 'mgmt'], 'option --profile-dir given 2 times ("/x", "/y")'],
    [['enable', 'mgmt', '--nic', 'a', '--nic', 'b'], 'option --nic given 2 times ("a", "b")'],
    [['status', '--format', 'json', '--format', 'text'], 'option --format given 2 times ("json", "text")'],
  ];
  for (const [args, what] of twice)
    it(`oob ${args.join(' ')}: exit 2, one line naming it, nothing created`, () => {
      const r = oob(args);
      expect(r.stderr.trimEnd()).to.equal(`oob: ${what}: it takes one value; give it once`);
      expect(r.code).to.equal(2);
      expect(existsSync(path.join(dir, 'run')), 'the runtime directory').to.equal(false);
    });

  it('lists stay lists and a flag twice is the flag: several names, -q -q', () => {
    const r = oob(['down', 'a', 'b', '-q', '-q']);
    expect(r.stderr).to.not.match(/given 2 times/);
    expect(r.stderr).to.not.match(/internal error/);
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
