import { expect } from 'chai';
import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { cmdline, startTime } from '../../src/sys/proc.js';
import { isRoot, Lab, sh } from './lab.js';

// What the package ships: the one bundled file and its loader (npm run build:bundle).
const DIST = new URL('../../../dist/', import.meta.url).pathname;
const LOADER = path.join(DIST, 'oob.cjs');
const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const inRoot = (argv: string[], env: NodeJS.ProcessEnv = process.env) =>
  sh(['/usr/bin/env', '-C', '/', ...argv], { env });

describe('integration: the bundle (dist/oob.cjs loading dist/oob.bundle.cjs with a code cache)', function () {
  let lab: Lab | undefined;
  let cacheDir = '';
  before(async function () {
    if (!isRoot()) this.skip();
  });
  beforeEach(async () => {
    lab = await Lab.create();
    cacheDir = path.join(lab.dir, 'cache');
  });
  afterEach(async () => {
    await lab?.destroy();
  });

  it("--version prints package.json's version from any working directory, bundled and from tsc's output", async () => {
    for (const argv of [[LOADER], [process.execPath, path.join(DIST, 'oob.bundle.cjs')], [path.join(DIST, 'cli.js')]]) {
      const r = await inRoot([...argv, '--version']);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).to.equal(0);
      expect(r.stdout.trim(), argv.join(' ')).to.equal(VERSION);
    }
  });

  it('writes a code cache on the first run, uses it after, and ignores a corrupt or foreign one', async () => {
    const env = lab!.env({ OOB_CODE_CACHE_DIR: cacheDir });
    const status = () => inRoot([LOADER, 'status', '--json'], env);
    const first = await status();
    expect(first.stderr).to.match(/^oob: no profiles in /);
    const [cache, ...more] = await fsp.readdir(cacheDir);
    expect(more).to.deep.equal([]);
    expect(cache).to.match(new RegExp(`^oob-${process.version}-${process.arch}-.*\\.v8$`));
    const file = path.join(cacheDir, cache!);
    const ino = (await fsp.stat(file)).ino;
    expect((await status()).stderr).to.equal(first.stderr);
    expect((await fsp.stat(file)).ino, 'a cache that matched was rewritten').to.equal(ino);
    // garbage: rejected by V8, the run is the same, and the cache is written anew
    await fsp.writeFile(file, Buffer.alloc(4096, 7));
    const bad = await status();
    expect([bad.code, bad.stderr]).to.deep.equal([first.code, first.stderr]);
    expect((await fsp.readFile(file)).equals(Buffer.alloc(4096, 7)), 'the corrupt cache was not replaced').to.equal(
      false,
    );
    // another user's cache is never loaded (it is code): replaced by root's own
    await fsp.chown(file, 65534, 65534);
    const foreign = await status();
    expect([foreign.code, foreign.stderr]).to.deep.equal([first.code, first.stderr]);
    expect((await fsp.stat(file)).uid).to.equal(0);
  });

  it('oob start through the bundle runs the bundle as the supervisor, and stop stops it', async () => {
    await lab!.writeProfile(`${lab!.seedProfile()}[service.idle]\nexec = /bin/sleep 600\n`);
    const env = lab!.env({ OOB_CODE_CACHE_DIR: cacheDir });
    const start = await sh(['/usr/bin/nsenter', `--net=/run/netns/${lab!.host}`, '--', LOADER, 'start', lab!.profile], {
      env,
    });
    expect(start.code, start.stderr).to.equal(0);
    const state = JSON.parse(await fsp.readFile(path.join(lab!.runtimeDir, lab!.profile, 'state.json'), 'utf8')) as {
      supervisor: { pid: number };
    };
    const argv = await cmdline(state.supervisor.pid);
    expect(argv?.slice(1, 3)).to.deep.equal([LOADER, 'run']);
    const stop = await sh(['/usr/bin/nsenter', `--net=/run/netns/${lab!.host}`, '--', LOADER, 'stop', lab!.profile], {
      env,
    });
    expect(stop.code, stop.stderr).to.equal(0);
    expect(await startTime(state.supervisor.pid), 'the supervisor is still there (a zombie counts as gone)').to.equal(
      undefined,
    );
  });
});
