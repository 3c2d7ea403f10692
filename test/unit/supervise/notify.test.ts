import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { addressKind, createNotifier, formatFields, watchdogInterval } from '../../../src/supervise/notify.js';
import { notifyReceiver } from '../../helpers/notify-receiver.js';

describe('notify: the sd_notify protocol', () => {
  it('formats fields and reads the environment', () => {
    expect(formatFields({ READY: '1', STATUS: 'mgmt: 2/2 services\nready' })).to.deep.equal([
      'READY=1',
      'STATUS=mgmt: 2/2 services ready',
    ]);
    expect(addressKind('@/org/freedesktop/systemd1/notify/123')).to.equal('abstract');
    expect(addressKind('/run/systemd/notify')).to.equal('path');
    expect(addressKind('vsock:2:1234')).to.equal(undefined);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000' }, 5)).to.equal(15000);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '6' }, 5)).to.equal(undefined);
    expect(watchdogInterval({}, 5)).to.equal(undefined);
  });

  it('does nothing without NOTIFY_SOCKET', async () => {
    const n = createNotifier({});
    expect(n.enabled).to.equal(false);
    await n.send({ READY: '1' });
  });

  for (const kind of ['abstract', 'filesystem'] as const) {
    it(`delivers to a real ${kind} socket, in order, with our pid in the credentials`, async function () {
      if (process.geteuid?.() !== 0) {
        console.log('      SKIPPED: systemd-notify --pid=<pid> in the credentials needs root, as under systemd');
        this.skip();
      }
      const name = `oob-notify-test-${randomBytes(4).toString('hex')}`;
      const addr = kind === 'abstract' ? `@${name}` : `/tmp/${name}.sock`;
      const r = await notifyReceiver(addr);
      try {
        const n = createNotifier({ NOTIFY_SOCKET: addr, PATH: process.env.PATH });
        await Promise.all([
          n.send({ STATUS: 'mgmt: 0/1 services ready' }),
          n.send({ READY: '1', STATUS: 'mgmt: 1/1 services ready' }),
          n.send({ WATCHDOG: '1' }),
          n.send({ STOPPING: '1' }),
        ]);
        const msgs = await r.wait(4);
        // systemd-notify --pid=P also says MAINPID=P: that is us, the main process, as it should be
        expect(
          msgs.every((m) => m.msg.startsWith(`MAINPID=${process.pid}\n`)),
          JSON.stringify(msgs),
        ).to.equal(true);
        expect(msgs.map((m) => m.msg.replace(/^MAINPID=\d+\n/, ''))).to.deep.equal([
          'STATUS=mgmt: 0/1 services ready',
          'READY=1\nSTATUS=mgmt: 1/1 services ready',
          'WATCHDOG=1',
          'STOPPING=1',
        ]);
        expect(
          msgs.every((m) => m.pid === process.pid),
          JSON.stringify(msgs),
        ).to.equal(true);
      } finally {
        r.close();
        if (kind === 'filesystem') rmSync(addr, { force: true });
      }
    });
  }

  it('reports a message nobody received', async () => {
    const n = createNotifier({
      NOTIFY_SOCKET: `@oob-nobody-${randomBytes(4).toString('hex')}`,
      PATH: process.env.PATH,
    });
    const err = await n.send({ READY: '1' }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err)
      .to.be.instanceOf(Error)
      .with.property('message')
      .that.matches(/systemd-notify: .*Connection refused/);
  });
});
