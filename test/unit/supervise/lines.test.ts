import { expect } from 'chai';
import { LineSplitter, TRUNCATED } from '../../../src/supervise/lines.js';

const split = (chunks: Array<string | Buffer>, max = 10) => {
  const out: string[] = [];
  const s = new LineSplitter((l) => out.push(l), max);
  for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  s.end();
  return out;
};

describe('supervise/lines: output cut into bounded lines', () => {
  it('splits across chunks, drops \\r, keeps a last line without newline', () => {
    expect(split(['ab', 'c\nde\r\n', '\n', 'f'])).to.deep.equal(['abc', 'de', '', 'f']);
  });

  it('cuts a long line at the limit, marks it, and skips the rest up to its newline', () => {
    expect(split(['0123456789ABCDEF\nok\n'])).to.deep.equal([`0123456789${TRUNCATED}`, 'ok']);
    expect(split(['01234', '56789ABC', 'DEF', 'GHI\nnext\n'])).to.deep.equal([`0123456789${TRUNCATED}`, 'next']);
    expect(split(['0123456789', '\n'])).to.deep.equal(['0123456789']);
  });

  it('a 50 MB line without a newline comes out as one cut line; memory held stays at the limit', () => {
    const out: string[] = [];
    const s = new LineSplitter((l) => out.push(l), 4096);
    const chunk = Buffer.alloc(65536, 'x');
    for (let i = 0; i < 800; i++) s.push(chunk);
    s.push(Buffer.from('\nafter\n'));
    s.end();
    expect(out).to.have.length(2);
    expect(out[0]).to.equal('x'.repeat(4096) + TRUNCATED);
    expect(out[1]).to.equal('after');
  });
});
