import { expect } from 'chai';
import { promises as fsp } from 'node:fs';
import { asOobError, ExitCode, exitCodeOf, isSystemError, NO_RESTART_CODES, OobError } from '../../src/errors.js';

const caught = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => expect.fail('it did not fail'),
    (e: unknown) => e,
  );

describe('errors: one table of exit codes, errors decided by their typed fields', () => {
  it('every exit code is distinct and below 126 (the shell and systemd own 126-255)', () => {
    const codes = Object.values(ExitCode);
    expect(new Set(codes).size).to.equal(codes.length);
    expect(codes.every((c) => c >= 0 && c < 126)).to.equal(true);
    expect(ExitCode).to.include({ supervisorNotReady: 12, system: 14, internal: 1 });
  });

  it('an OobError stays itself, with its own code', () => {
    const e = new OobError('busy', 'profile x is busy', ['detail']);
    expect(asOobError(e)).to.equal(e);
    expect(exitCodeOf(e)).to.equal(9);
  });

  it('a system call the OS refused becomes one line with the call, the path and the reason: exit 14, not internal', async () => {
    const e = await caught(fsp.readFile('/dev/null/x'));
    expect(isSystemError(e)).to.equal(true);
    const o = asOobError(e)!;
    expect(o.code).to.equal('system');
    expect(o.message).to.equal('the operating system refused: open /dev/null/x: not a directory (ENOTDIR)');
    expect(exitCodeOf(e)).to.equal(14);
  });

  it('names both paths of a two-path call', async () => {
    const e = await caught(fsp.rename('/dev/null/a', '/dev/null/b'));
    expect(asOobError(e)!.message).to.equal(
      'the operating system refused: rename /dev/null/a -> /dev/null/b: not a directory (ENOTDIR)',
    );
  });

  it('a program that cannot be started is named once', async () => {
    const { spawn } = await import('node:child_process');
    const e = await new Promise<unknown>((resolve) =>
      spawn('/dev/null', [], { stdio: 'ignore' }).once('error', resolve),
    );
    expect(asOobError(e)!.message).to.equal(
      'the operating system refused: spawn /dev/null: permission denied (EACCES)',
    );
  });

  it('anything else is a bug (internal, 1), whatever its message says', () => {
    const lookalike = Object.assign(new Error('EACCES: permission denied, open /x'), { code: 'EACCES' }); // no errno, no syscall
    for (const e of [
      new TypeError('x is undefined'),
      lookalike,
      'a string',
      undefined,
      { errno: -13, code: 'EACCES', syscall: 'open' },
    ]) {
      expect(asOobError(e), String(e)).to.equal(undefined);
      expect(exitCodeOf(e)).to.equal(ExitCode.internal);
    }
  });

  it('a restart by systemd is not prevented after a refused system call (a full disk or a busy device can pass)', () => {
    expect(NO_RESTART_CODES).not.to.include(ExitCode.system);
    expect(NO_RESTART_CODES).not.to.include(ExitCode.internal);
  });
});
