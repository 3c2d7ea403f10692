import { expect } from 'chai';
import { runsProfile } from '../../../src/supervise/control.js';

describe('supervise/control: which command line is the supervisor of a profile', () => {
  const node = ['/usr/bin/node', '/usr/lib/oob/cli.js'];
  it('is oob run NAME, with global options before or after the verb', () => {
    for (const rest of [
      ['run', 'mgmt'],
      ['--profile-dir', '/p', 'run', 'mgmt'],
      ['--profile-dir=/p', '-q', 'run', 'mgmt'],
      ['run', '--profile-dir', '/p', 'mgmt'],
      ['run', 'mgmt', '--quiet'],
    ])
      expect(runsProfile([...node, ...rest], 'mgmt'), rest.join(' ')).to.equal(true);
  });
  it('is not another verb, another profile, or a "run" that is an argument', () => {
    for (const rest of [
      ['run', 'mgmt2'],
      ['start', 'mgmt'],
      ['exec', 'mgmt', '--', 'run', 'mgmt'],
      ['--profile-dir', 'run', 'mgmt'],
      ['status', 'run', 'mgmt'],
      ['run'],
      [],
    ])
      expect(runsProfile([...node, ...rest], 'mgmt'), rest.join(' ')).to.equal(false);
  });
});
