// Runs the compiled tests with mocha and ends with the line CI reads: "N passed, N failed, N skipped",
// taken from mocha's own counts. The root hooks of test/integration/hooks.ts check at the end that
// the run left nothing running.
import Mocha from 'mocha';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../build/test/', import.meta.url).pathname;
const walk = (d) => {
  try {
    statSync(d);
  } catch {
    return [];
  }
  return readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
};
const only = process.argv.slice(2);
const files = ['unit', 'integration']
  .flatMap((sub) =>
    walk(join(root, sub))
      .filter((f) => f.endsWith('.test.js'))
      .sort(),
  )
  .filter((f) => !only.length || only.some((o) => f.includes(o)));

const { mochaHooks } = await import(join(root, 'integration', 'hooks.js'));
const mocha = new Mocha({ timeout: 120_000, reporter: 'spec', rootHooks: mochaHooks });
for (const f of files) mocha.addFile(f);
await mocha.loadFilesAsync();
const runner = mocha.run();
runner.on('end', () => {
  const s = runner.stats;
  console.log(`\n${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`);
  process.exitCode = s.failures ? 1 : 0;
});
