// The house rule: a folder of src/ imports only from the folders below it (README, Architecture).
// Read from the source text itself, so a new arrow running back up fails the suite.
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const SRC = new URL('../../../src/', import.meta.url).pathname;

/** Lowest first. A folder may import from folders of a lower rank, and from itself. */
export const RANK: Record<string, number> = {
  net: 0,
  errors: 0,
  sys: 1,
  state: 2,
  profile: 3,
  observe: 4,
  plan: 5,
  engine: 6,
  supervise: 7,
  systemd: 7,
  status: 8,
  demo: 8,
  commands: 9,
  cli: 10,
};

const walk = (d: string): string[] =>
  readdirSync(d).flatMap((f) => (statSync(path.join(d, f)).isDirectory() ? walk(path.join(d, f)) : [path.join(d, f)]));
const folderOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!.replace(/\.ts$/, '');

describe('architecture: imports run down the house, never up', () => {
  const files = walk(SRC).filter((f) => f.endsWith('.ts'));
  it('every file of src/ lives in a folder with a rank', () => {
    expect(files.length).to.be.greaterThan(30);
    expect(files.map(folderOf).filter((f) => RANK[f] === undefined)).to.deep.equal([]);
  });
  it('no import (static, dynamic or type-only) reaches a folder of the same or a higher rank', () => {
    const wrong: string[] = [];
    for (const f of files) {
      const from = folderOf(f);
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\(\s*)'(\.\.?\/[^']+)'/g)) {
        const to = folderOf(path.resolve(path.dirname(f), m[1]!.replace(/\.js$/, '.ts')));
        if (to !== from && !(RANK[to]! < RANK[from]!)) wrong.push(`${path.relative(SRC, f)} -> ${to}`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });
});

describe('architecture: what oob status loads', () => {
  /** Files a module pulls in at load time (static imports), and with `lazy` those its code imports when it runs. */
  function closure(start: string[], lazy: string[]): string[] {
    const seen = new Set<string>();
    const visit = (file: string, followDynamic: boolean) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)(?!\s+type\b)[^'";]*?from\s+'(\.\.?\/[^']+)'/g))
        visit(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')), false);
      if (followDynamic)
        for (const m of text.matchAll(/import\(\s*'(\.\.?\/[^']+)'\s*\)/g))
          visit(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')), false);
    };
    for (const f of lazy) visit(path.join(SRC, f), true); // first: a static import must not hide its lazy ones
    for (const f of start) visit(path.join(SRC, f), false);
    return [...seen].map((f) => path.relative(SRC, f)).sort();
  }

  it('the status command pulls in neither the engine (apply, lock, ops) nor the planners', () => {
    const loaded = closure(['cli.ts'], ['commands/status.ts']);
    expect(loaded).to.include('status/collect.ts');
    expect(loaded.filter((f) => f.startsWith('engine/') || f.startsWith('plan/'))).to.deep.equal([]);
  });
});
