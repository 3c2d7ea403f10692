// Profiles are read as root: every way another user could slip a file in is tried on real files.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OobError } from '../../../src/errors.js';
import { dirChecks, loadProfile } from '../../../src/profile/load.js';

const NOBODY = 65534;
const GOOD = '[interface]\nnic = ens19\naddress = 10.20.30.1/24\n';

/** The load's outcome, or "hung" when it did not end within 5 s (a FIFO or a device read forever). */
async function load(dir: string, name: string): Promise<OobError | string> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((r) => (timer = setTimeout(() => r('hung'), 5000)));
  try {
    return await Promise.race([
      loadProfile(dir, name).then(
        (p) => `loaded ${p.iface!.nic.kind === 'name' ? p.iface!.nic.name : ''}`,
        (e: unknown) => (e instanceof OobError ? e : `not an OobError: ${String(e)}`),
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('profile/load: a profile is opened once and checked on the open file', function () {
  let top: string;
  let dir: string;
  before(function () {
    if (process.geteuid?.() !== 0) this.skip();
  });
  beforeEach(async () => {
    top = await fsp.mkdtemp(path.join(os.tmpdir(), 'oob-load-'));
    dir = path.join(top, 'profiles');
    await fsp.mkdir(dir, { mode: 0o700 });
  });
  afterEach(async () => {
    await fsp.rm(top, { recursive: true, force: true });
  });
  const write = async (name: string, text: string | Buffer, mode = 0o600) => {
    const f = path.join(dir, `${name}.ini`);
    await fsp.writeFile(f, text, { mode });
    return f;
  };
  const refused = (r: OobError | string, code: number, re: RegExp) => {
    expect(r, String(r)).to.be.instanceOf(OobError);
    expect((r as OobError).exitCode, (r as OobError).message).to.equal(code);
    expect((r as OobError).message).to.match(re);
    expect((r as OobError).details).to.deep.equal([]);
  };

  it('a plain root-owned profile in root-owned directories loads', async () => {
    await write('a', GOOD);
    expect(await load(dir, 'a')).to.equal('loaded ens19');
  });

  it('a FIFO is refused at once (exit 5), without waiting for a writer', async () => {
    execFileSync('mkfifo', ['-m', '600', path.join(dir, 'a.ini')]);
    refused(await load(dir, 'a'), 5, /a\.ini: a FIFO, not a regular file: .*put one there$/);
  });

  it('a device is refused without being read (exit 5)', async () => {
    execFileSync('mknod', ['-m', '600', path.join(dir, 'a.ini'), 'c', '1', '5']); // /dev/zero: endless
    refused(await load(dir, 'a'), 5, /a\.ini: a character device, not a regular file/);
  });

  it('a symbolic link owned by another user is refused, even to a good root-owned file (exit 5)', async () => {
    const target = await write('real', GOOD);
    await fsp.symlink(target, path.join(dir, 'a.ini'));
    await fsp.lchown(path.join(dir, 'a.ini'), NOBODY, NOBODY);
    refused(await load(dir, 'a'), 5, /a\.ini: a symbolic link owned by uid 65534: .*fix with: chown -h root /);
  });

  it('a root-owned symbolic link to a root-owned file in root-owned directories loads', async () => {
    const target = await write('real', GOOD);
    await fsp.symlink(target, path.join(dir, 'a.ini'));
    expect(await load(dir, 'a')).to.equal('loaded ens19');
  });

  it('a root-owned symbolic link into a directory another user owns is refused (exit 5)', async () => {
    const theirs = path.join(top, 'theirs');
    await fsp.mkdir(theirs, { mode: 0o755 });
    await fsp.writeFile(path.join(theirs, 'p.ini'), GOOD, { mode: 0o600 });
    await fsp.chown(theirs, NOBODY, NOBODY);
    await fsp.symlink(path.join(theirs, 'p.ini'), path.join(dir, 'a.ini'));
    refused(
      await load(dir, 'a'),
      5,
      new RegExp(`^${theirs}: owned by uid 65534, not root: .*fix with: chown root ${theirs}$`),
    );
  });

  it('a chain of links: a second link in a directory another user owns is refused, though the file it ends at is good (exit 5)', async () => {
    const target = await write('real', GOOD);
    const theirs = path.join(top, 'theirs');
    await fsp.mkdir(theirs, { mode: 0o755 });
    await fsp.chown(theirs, NOBODY, NOBODY);
    // that user can point theirs/link at any file of root's
    await fsp.symlink(target, path.join(theirs, 'link'));
    await fsp.symlink(path.join(theirs, 'link'), path.join(dir, 'a.ini'));
    refused(
      await load(dir, 'a'),
      5,
      new RegExp(`^${theirs}: owned by uid 65534, not root: .*fix with: chown root ${theirs}$`),
    );
  });

  it('a chain of links: a second link owned by another user is refused (exit 5)', async () => {
    const target = await write('real', GOOD);
    const link = path.join(top, 'link');
    await fsp.symlink(target, link);
    await fsp.lchown(link, NOBODY, NOBODY);
    await fsp.symlink(link, path.join(dir, 'a.ini'));
    refused(
      await load(dir, 'a'),
      5,
      new RegExp(`^${link}: a symbolic link owned by uid 65534: .*chown -h root ${link}`),
    );
  });

  it('a chain of root-owned links through root-owned directories loads, a relative one too', async () => {
    await write('real', GOOD);
    await fsp.symlink('real.ini', path.join(top, 'link'));
    await fsp.symlink('../link', path.join(dir, 'a.ini'));
    await fsp.rename(path.join(dir, 'real.ini'), path.join(top, 'real.ini'));
    expect(await load(dir, 'a')).to.equal('loaded ens19');
  });

  it('a loop of links is one line (exit 5)', async () => {
    await fsp.symlink('b.ini', path.join(dir, 'a.ini'));
    await fsp.symlink('a.ini', path.join(dir, 'b.ini'));
    refused(await load(dir, 'a'), 5, /a\.ini: a loop of symbolic links/);
  });

  it('a profile directory owned by another user is refused, with the fix (exit 5)', async () => {
    await write('a', GOOD);
    await fsp.chown(dir, NOBODY, NOBODY);
    refused(
      await load(dir, 'a'),
      5,
      new RegExp(`^${dir}: owned by uid 65534, not root: .*fix with: chown root ${dir}$`),
    );
  });

  it('a world- or group-writable directory above the profile is refused, with the fix (exit 5)', async () => {
    await write('a', GOOD);
    await fsp.chmod(top, 0o777);
    refused(
      await load(dir, 'a'),
      5,
      new RegExp(`^${top}: writable by everyone \\(mode 777\\): .*fix with: chmod go-w ${top}$`),
    );
    await fsp.chmod(top, 0o700);
    await fsp.chmod(dir, 0o770);
    refused(
      await load(dir, 'a'),
      5,
      new RegExp(`^${dir}: writable by its group \\(mode 770\\): .*fix with: chmod go-w ${dir}$`),
    );
  });

  it("a sticky world-writable directory (like /tmp) is no way in: others cannot replace root's files there", async () => {
    await write('a', GOOD);
    await fsp.chmod(top, 0o1777);
    expect(await load(dir, 'a')).to.equal('loaded ens19');
  });

  it('the directory checks shared by the loads of one run refuse a bad directory for every profile below it, not only the first', async () => {
    for (const n of ['a', 'b', 'c']) await write(n, GOOD);
    await fsp.chmod(top, 0o777);
    const checks = dirChecks();
    const outcomes = await Promise.all(['a', 'b', 'c'].map((n) => loadProfile(dir, n, { checks }).catch((e) => e)));
    for (const r of outcomes)
      refused(r, 5, new RegExp(`^${top}: writable by everyone \\(mode 777\\): .*fix with: chmod go-w ${top}$`));
    // one after the other (the later loads find the check done): refused the same
    for (const n of ['a', 'b', 'c'])
      refused(
        await loadProfile(dir, n, { checks }).catch((e) => e),
        5,
        new RegExp(`^${top}: writable by everyone \\(mode 777\\)`),
      );
  });

  it("with shared directory checks, each profile's own symbolic links and the directories they lead to are still checked", async () => {
    await write('a', GOOD);
    const elsewhere = path.join(top, 'elsewhere');
    await fsp.mkdir(elsewhere, { mode: 0o755 });
    await fsp.writeFile(path.join(elsewhere, 'b.ini'), GOOD, { mode: 0o600 });
    await fsp.symlink(path.join(elsewhere, 'b.ini'), path.join(dir, 'b.ini'));
    await fsp.chown(elsewhere, NOBODY, NOBODY);
    await fsp.writeFile(path.join(top, 'c.ini'), GOOD, { mode: 0o600 });
    await fsp.symlink(path.join(top, 'c.ini'), path.join(dir, 'c.ini'));
    await fsp.lchown(path.join(dir, 'c.ini'), NOBODY, NOBODY);
    const checks = dirChecks();
    expect((await loadProfile(dir, 'a', { checks })).name).to.equal('a');
    refused(
      await loadProfile(dir, 'b', { checks }).catch((e) => e),
      5,
      new RegExp(`^${elsewhere}: owned by uid 65534, not root`),
    );
    refused(
      await loadProfile(dir, 'c', { checks }).catch((e) => e),
      5,
      new RegExp(`^${path.join(dir, 'c.ini')}: a symbolic link owned by uid 65534`),
    );
    expect((await loadProfile(dir, 'a', { checks })).name).to.equal('a');
  });

  it('a huge file is reported in one line (exit 3), not read', async () => {
    await write('a', Buffer.alloc(5 * 1024 * 1024, 'x\n'));
    refused(
      await load(dir, 'a'),
      3,
      /a\.ini: 5242880 bytes: a profile is a few hundred bytes of text .*is this the right file\?$/,
    );
  });

  it('a binary file is reported in one line (exit 3), with no raw byte of it', async () => {
    await write('a', Buffer.from('[interface]\nnic = \u001b[2J\u0000\u0007ens19\n', 'latin1'));
    const r = await load(dir, 'a');
    refused(r, 3, /a\.ini: a binary file \(a NUL byte at offset 22\)/);
    expect((r as OobError).message).not.to.match(/[\u0000-\u001f]/);
  });
});
