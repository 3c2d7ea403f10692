import { expect } from 'chai';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isJournalStream, withPriority } from '../../../src/sys/journal.js';

describe('sys/journal: sd-daemon priority prefixes when stderr is the journal', () => {
  it('recognises the stream by $JOURNAL_STREAM = DEV:INO of the descriptor, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oob-journal-'));
    const a = openSync(join(dir, 'a'), 'w');
    const b = openSync(join(dir, 'b'), 'w');
    try {
      const st = fstatSync(a, { bigint: true });
      const env = { JOURNAL_STREAM: `${st.dev}:${st.ino}` };
      expect(isJournalStream(env, a)).to.equal(true);
      expect(isJournalStream(env, b)).to.equal(false);
      expect(isJournalStream({}, a)).to.equal(false);
      expect(isJournalStream({ JOURNAL_STREAM: 'junk' }, a)).to.equal(false);
      expect(isJournalStream(env, 987)).to.equal(false); // a closed descriptor
    } finally {
      closeSync(a);
      closeSync(b);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prefixes every line with its priority, only for the journal', () => {
    expect(withPriority(true, 'error', 'oob: bad\n  detail')).to.equal('<3>oob: bad\n<3>  detail');
    expect(withPriority(true, 'warning', 'warning: w')).to.equal('<4>warning: w');
    expect(withPriority(true, 'info', 'i')).to.equal('<6>i');
    expect(withPriority(false, 'error', 'oob: bad')).to.equal('oob: bad');
  });
});
