import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_RESTART_CODES } from '../../../src/errors.js';
import {
  deviceUnit,
  escapePath,
  renderDropIn,
  renderNetworkdRule,
  renderNmRule,
  renderTemplate,
  unitFiles,
  type UnitContext,
} from '../../../src/systemd/render.js';
import { profile } from '../helpers.js';

const template = readFileSync(new URL('../../../../units/oob@.service', import.meta.url), 'utf8');
const p = profile('[interface]\nnic = ens19\naddress = 10.20.30.1/24\ngateway = 10.20.30.20\n');
const ctx: UnitContext = {
  exec: `${process.execPath} /usr/lib/node_modules/oob/dist/cli.js`,
  profileDir: '/etc/oob/profiles',
  mac: '52:54:00:aa:bb:19',
  nicName: 'ens19',
  force: false,
  networkManager: true,
  networkd: true,
};

describe('units/render', () => {
  it('escapes device paths exactly as systemd-escape --path does', function () {
    const names = ['ens19', 'my-nic.1', 'eth0:x', 'wlp2s0', 'a_b'];
    const r = spawnSync('systemd-escape', ['--path', ...names.map((n) => `/sys/subsystem/net/devices/${n}`)], {
      encoding: 'utf8',
    });
    if (r.error) {
      console.log(`      SKIPPED: systemd-escape cannot run here (${r.error.message})`);
      this.skip();
    }
    expect(names.map((n) => escapePath(`/sys/subsystem/net/devices/${n}`)).join(' ')).to.equal(r.stdout.trim());
    expect(deviceUnit('ens19')).to.equal('sys-subsystem-net-devices-ens19.device');
  });

  it('renders the template: Type=notify, never BindsTo the device, before network-pre, no restart for hopeless exits', () => {
    const t = renderTemplate(template, ctx);
    expect(t).not.to.match(/@[A-Z_]+@/);
    expect(t).to.match(new RegExp(`^ExecStart=${process.execPath} /usr/lib/node_modules/oob/dist/cli.js run %i$`, 'm'));
    expect(t)
      .to.match(/^Type=notify$/m)
      .and.match(/^Restart=always$/m)
      .and.match(/^WatchdogSec=\d+$/m)
      .and.match(/^Before=network-pre\.target/m)
      .and.match(/^KillMode=mixed$/m);
    expect(t).to.match(new RegExp(`^RestartPreventExitStatus=${NO_RESTART_CODES.join(' ')}$`, 'm'));
    expect(t).not.to.match(/^BindsTo=/m);
  });

  it("renders the drop-in: ordered after the NIC's device (Wants, not BindsTo), the profile directory, --force", () => {
    const d = renderDropIn(p, ctx);
    expect(d)
      .to.match(/^After=sys-subsystem-net-devices-ens19\.device$/m)
      .and.match(/^Wants=sys-subsystem-net-devices-ens19\.device$/m);
    expect(d).to.match(/^Environment=OOB_PROFILE_DIR=\/etc\/oob\/profiles$/m);
    expect(d).not.to.match(/OOB_FORCE|BindsTo/);
    expect(renderDropIn(p, { ...ctx, force: true })).to.match(/^Environment=OOB_FORCE=1$/m);
  });

  it('keeps NetworkManager and networkd off the NIC by MAC, by name when the MAC is unknown', () => {
    expect(renderNmRule(p, ctx)).to.match(/^\[keyfile\]\nunmanaged-devices\+=mac:52:54:00:aa:bb:19$/m);
    expect(renderNetworkdRule(p, ctx)).to.match(
      /^\[Match\]\nMACAddress=52:54:00:aa:bb:19\n\n\[Link\]\nUnmanaged=yes$/m,
    );
    const noMac = { ...ctx };
    delete noMac.mac;
    expect(renderNmRule(p, noMac)).to.match(/unmanaged-devices\+=interface-name:ens19/);
    expect(renderNetworkdRule(p, noMac)).to.match(/^Name=ens19$/m);
    expect(unitFiles(p, template, { ...ctx, networkManager: false, networkd: false }).map((f) => f.path)).to.deep.equal(
      ['/etc/systemd/system/oob@.service', '/etc/systemd/system/oob@mgmt.service.d/10-oob.conf'],
    );
  });

  it('every generated unit file passes systemd-analyze verify, without a single warning', function () {
    const dir = mkdtempSync(join(tmpdir(), 'oob-verify-'));
    try {
      for (const f of unitFiles(p, template, {
        ...ctx,
        exec: `${process.execPath} ${new URL('../../../src/cli.js', import.meta.url).pathname}`,
      }).filter((x) => x.path.startsWith('/etc/systemd/system/'))) {
        const out = join(dir, f.path.slice('/etc/systemd/system/'.length));
        mkdirSync(join(out, '..'), { recursive: true });
        writeFileSync(out, f.content);
      }
      const r = spawnSync('systemd-analyze', ['verify', join(dir, 'oob@mgmt.service')], {
        encoding: 'utf8',
        env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:`, SYSTEMD_LOG_LEVEL: 'notice' },
      });
      if (r.error) {
        console.log(`      SKIPPED: systemd-analyze cannot run here (${r.error.message})`);
        this.skip();
      }
      expect(r.status, r.stderr).to.equal(0);
      expect((r.stdout + r.stderr).trim(), 'systemd-analyze verify printed warnings').to.equal('');
      // and it does see the drop-in: a bad key there is reported
      writeFileSync(join(dir, 'oob@mgmt.service.d', '10-oob.conf'), renderDropIn(p, ctx) + 'NoSuchKey=1\n');
      const bad = spawnSync('systemd-analyze', ['verify', join(dir, 'oob@mgmt.service')], {
        encoding: 'utf8',
        env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
      });
      expect(bad.stderr).to.match(/Unknown key 'NoSuchKey'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
