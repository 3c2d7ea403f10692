import { expect } from 'chai';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import * as os from 'node:os';
import * as path from 'node:path';
import { logWriter } from '../../../src/supervise/logsink.js';

class FakeStream extends EventEmitter {
  lines: string[] = [];
  writableLength = 0;
  throwOnWrite = false;
  write(s: string) {
    if (this.throwOnWrite) throw new Error('EPIPE');
    this.lines.push(s);
    return true;
  }
}

describe('supervise/logsink: the supervisor log never kills it and never grows without bound', () => {
  it('a stream that errors (EPIPE, ENOSPC) or throws is given up, without an exception', () => {
    const s = new FakeStream();
    const w = logWriter({ stream: s });
    w('one');
    s.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    w('two');
    expect(s.lines).to.deep.equal(['one\n']);
    const t = new FakeStream();
    t.throwOnWrite = true;
    const w2 = logWriter({ stream: t });
    expect(() => (w2('x'), w2('y'))).not.to.throw();
  });

  it('drops lines while the reader is more than 1 MB behind, and says how many', () => {
    const s = new FakeStream();
    const w = logWriter({ stream: s });
    s.writableLength = 2 * 1024 * 1024;
    w('a');
    w('b');
    s.writableLength = 0;
    w('c');
    expect(s.lines).to.deep.equal(['(2 line(s) dropped: the log could not keep up)\nc\n']);
  });

  it('rotates its log file at the cap: copy to .1, truncate, go on', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'oob-logsink-'));
    try {
      const file = path.join(dir, 'supervisor.log');
      const fd = openSync(file, 'a');
      const stream = Object.assign(new EventEmitter(), {
        writableLength: 0,
        write: (t: string) => (writeSync(fd, t), true),
      });
      const w = logWriter({ stream, rotate: { fd, file, capBytes: 1000 } });
      for (let i = 0; i < 100; i++) w(`line ${i} ${'x'.repeat(40)}`);
      closeSync(fd);
      expect(statSync(file).size).to.be.below(1100);
      expect(existsSync(`${file}.1`)).to.equal(true);
      expect(readFileSync(file, 'utf8')).to.match(/line 99 x+\n$/);
      expect(readFileSync(file, 'utf8')).to.match(/^\(log rotated at 1000 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
