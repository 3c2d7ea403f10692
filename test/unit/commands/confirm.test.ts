import { expect } from 'chai';
import { DEFAULT_WINDOW_S, parseWindowSync } from '../../../src/commands/confirm.js';
import { OobError } from '../../../src/errors.js';

describe('commands/confirm: --confirm[=DURATION]', () => {
  it('the flag alone is the default window, 120 s', () => {
    expect(DEFAULT_WINDOW_S).to.equal(120);
    expect(parseWindowSync('')).to.equal(120);
  });
  it('takes seconds, with or without s, and minutes and hours', () => {
    expect(parseWindowSync('3')).to.equal(3);
    expect(parseWindowSync('90s')).to.equal(90);
    expect(parseWindowSync('5m')).to.equal(300);
    expect(parseWindowSync('1h')).to.equal(3600);
  });
  it('refuses anything else with one usage line (exit 2)', () => {
    for (const bad of ['0', 'soon', '-5', '2d', '1.5m', '25h', ['1', '2']]) {
      let err: unknown;
      try {
        parseWindowSync(bad);
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).to.be.instanceOf(OobError);
      expect((err as OobError).exitCode).to.equal(2);
      expect((err as OobError).message).to.match(/^--confirm takes a duration/);
    }
  });
});
