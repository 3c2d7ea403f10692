import { expect } from 'chai';
import { checkIfName, checkMac, checkProfileName } from '../../../src/profile/names.js';

describe('profile/names: a refused name is one line, never a raw control character, never a whole flood', () => {
  it('a profile name with a newline or an escape sequence: one line, the characters escaped', () => {
    const msg = checkProfileName('a\nb\u001b[2J')!;
    expect(msg.split('\n')).to.have.length(1);
    expect(msg).to.match(/^"a\\x0ab\\x1b\[2J" is not a valid profile\/namespace name/);
  });

  it('a name of 5000 characters is shown cut to 40', () => {
    const msg = checkProfileName('a'.repeat(5000))!;
    expect(msg).to.match(/^"a{40}…" is 5000 bytes long; a namespace name here is at most 15 bytes$/);
  });

  it('interface names and MACs the same way', () => {
    expect(checkIfName('e th\r0')).to.equal(
      '"e th\\x0d0" is not a valid interface name (no "/", ":" or spaces, not "." or "..")',
    );
    expect(checkMac('52:54\n')).to.match(/^"52:54\\x0a" is not a MAC address/);
  });

  it("the names of oob's own runtime files (locks, confirm, demo.json) are no profile names", () => {
    for (const n of ['locks', 'confirm', 'demo.json'])
      expect(checkProfileName(n), n).to.equal(
        `"${n}" is a name oob keeps for its own files in its runtime directory: choose another profile name`,
      );
  });

  it('valid names pass', () => {
    expect([checkProfileName('mgmt-1.a_b'), checkIfName('ens19'), checkMac('52:54:00:12:34:56')]).to.deep.equal([
      null,
      null,
      null,
    ]);
  });
});
