import { expect } from 'chai';
import {
  closestOption,
  editDistance,
  repeatedOption,
  unknownOptions,
  unknownOptionMessage,
} from '../../../src/commands/usage.js';

// getOptions() of `oob up` as yargs hands it over: keys with their camelCase twins, -q for --quiet
const UP = {
  key: Object.fromEntries(
    ['profile-dir', 'profileDir', 'quiet', 'q', 'help', 'version', 'wait', 'confirm', 'json', 'force'].map((k) => [
      k,
      true,
    ]),
  ),
  alias: { quiet: ['q'], 'profile-dir': ['profileDir'] },
};

describe('commands/usage: naming the unknown option of a refused command line', () => {
  it('editDistance counts a swap of two neighbours as one step', () => {
    expect([editDistance('confrim', 'confirm'), editDistance('jsn', 'json'), editDistance('abc', 'xyz')]).to.deep.equal(
      [1, 1, 3],
    );
  });

  it('unknownOptions: long, short clusters, --no- negations, camelCase, values and what follows -- are no options', () => {
    expect(unknownOptions(['--confrim', 'mgmt'], UP)).to.deep.equal(['--confrim']);
    expect(unknownOptions(['-qz', '--no-force', '--profileDir', '/x', '--wait=3', '--wait', '-1'], UP)).to.deep.equal([
      '-z',
    ]);
    expect(unknownOptions(['mgmt', '--', '--bogus', '-x'], UP)).to.deep.equal([]);
    expect(unknownOptions(['--names', 'x'], UP, ['names'])).to.deep.equal([]);
    expect(unknownOptions(['--bogus', '--bogus', '--x'], UP)).to.deep.equal(['--bogus', '--x']);
  });

  it('closestOption: a near miss or the start of exactly one option; nothing when nothing is close', () => {
    expect(['--confrim', '--forse', '--conf', '--jsn', '--wiat'].map((t) => closestOption(t, UP))).to.deep.equal([
      '--confirm',
      '--force',
      '--confirm',
      '--json',
      '--wait',
    ]);
    expect(['--bogus', '-z', '--x'].map((t) => closestOption(t, UP))).to.deep.equal([undefined, undefined, undefined]);
  });

  it('unknownOptionMessage: one line, the first unknown option, the one meant, the others named; none without one', () => {
    expect(unknownOptionMessage(['--confrim', 'mgmt'], UP, 'oob up')).to.equal(
      'unknown option --confrim; did you mean --confirm?',
    );
    expect(unknownOptionMessage(['mgmt', '--bogus', '-z'], UP, 'oob up')).to.equal(
      'unknown option --bogus (also unknown: -z): oob up --help lists the options',
    );
    expect(unknownOptionMessage(['mgmt', '--force'], UP, 'oob up')).to.equal(undefined);
  });
});

describe('commands/usage: repeatedOption', () => {
  it('names an option given twice that takes one value; lists, flags and camelCase twins pass', () => {
    const lists = new Set(['names']);
    expect(repeatedOption({ _: ['a', 'b'], nic: ['a', 'b'] }, lists)).to.equal(
      'option --nic given 2 times ("a", "b"): it takes one value; give it once',
    );
    expect(repeatedOption({ w: [1, 2] }, lists)).to.match(/^option -w given 2 times/);
    expect(
      repeatedOption({ names: ['a', 'b'], quiet: [true, true], profileDir: ['/x', '/y'], nic: 'a' }, lists),
    ).to.equal(undefined);
  });
});
