// How the lab runs commands: through oob's own runner (src/sys/run.ts), never a copy of it.
import { spawnRunner, type RunResult } from '../../../src/sys/run.js';

/** oob's entry point, as built next to the tests. */
export const CLI = new URL('../../../src/cli.js', import.meta.url).pathname;
/** The bundle `npm run build` writes (what the package installs): dist/ of this checkout. */
export const DIST = new URL('../../../../dist/', import.meta.url).pathname;
export const isRoot = () => process.geteuid?.() === 0;

export type Result = RunResult;

/** Run a command and return its exit code and output, whatever the code. */
export function sh(argv: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return spawnRunner(argv, { ...opts, allowFail: true });
}

/** Run a command that must succeed; its stdout. */
export async function must(argv: string[], input?: string): Promise<string> {
  const r = await sh(argv, input !== undefined ? { input } : {});
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}
