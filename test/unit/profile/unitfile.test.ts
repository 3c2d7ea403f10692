import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  expandArgv,
  mergeUnit,
  parseEnvFile,
  parseUnitFile,
  unitCopy,
  unitWords,
  type UnitCopy,
} from '../../../src/profile/unitfile.js';
import { fillFromUnit } from '../../../src/profile/units.js';
import type { ServiceConfig } from '../../../src/profile/types.js';

const FIX = new URL('../../../../test/fixtures/units/', import.meta.url).pathname;
const fixture = (f: string) => readFileSync(FIX + f, 'utf8');
const unit = (name: string, dropIns: string[] = []) =>
  mergeUnit([
    { file: `/lib/systemd/system/${name}`, text: fixture(name) },
    ...dropIns.map((t, i) => ({ file: `/etc/systemd/system/${name}.d/${i}.conf`, text: t })),
  ]);
const copy = (name: string, env: Record<string, string | undefined> = {}, dropIns: string[] = []): UnitCopy => {
  const c = unitCopy(name, unit(name, dropIns), env);
  if (typeof c === 'string') throw new Error(c);
  return c;
};
const refused = (name: string, dropIns: string[] = [], env: Record<string, string | undefined> = {}) => {
  const c = unitCopy(name, unit(name, dropIns), env);
  if (typeof c !== 'string') throw new Error('expected a refusal');
  return c;
};

describe('unit files: reading installed services for from =', () => {
  it("Debian's ssh.service: EnvironmentFile=- expanded ($SSHD_OPTS empty), sshd -t before, /run/sshd as its runtime directory", () => {
    const c = copy('ssh.service', { '/etc/default/ssh': fixture('default-ssh') });
    expect(c.exec).to.deep.equal(['/usr/sbin/sshd', '-D']);
    expect(c.type).to.equal('notify');
    expect(c.prestart).to.deep.equal([
      ['install', '-d', '-m', '0755', '/run/sshd'],
      ['/usr/sbin/sshd', '-t'],
    ]);
    expect(c.envFiles).to.deep.equal([{ path: '/etc/default/ssh', optional: true }]);
    expect(c.conditions).to.deep.equal([
      {
        path: '/etc/ssh/sshd_not_to_be_run',
        negate: true,
        where: 'ConditionPathExists=!/etc/ssh/sshd_not_to_be_run (/lib/systemd/system/ssh.service:5)',
      },
    ]);
    // the "-" file may be missing
    expect(copy('ssh.service', { '/etc/default/ssh': undefined }).exec).to.deep.equal(['/usr/sbin/sshd', '-D']);
  });

  it('prometheus-node-exporter: User=, $ARGS from its EnvironmentFile split into words, TimeoutStopSec', () => {
    const c = copy('prometheus-node-exporter.service', {
      '/etc/default/prometheus-node-exporter': fixture('default-prometheus-node-exporter'),
    });
    expect(c.exec).to.deep.equal(['/usr/bin/prometheus-node-exporter']);
    expect(c.user).to.equal('prometheus');
    expect(c.stopTimeoutMs).to.equal(20_000);
    const withArgs = copy('prometheus-node-exporter.service', {
      '/etc/default/prometheus-node-exporter': 'ARGS="--web.listen-address=:9101  --collector.systemd"\n',
    });
    expect(withArgs.exec).to.deep.equal([
      '/usr/bin/prometheus-node-exporter',
      '--web.listen-address=:9101',
      '--collector.systemd',
    ]);
    expect(withArgs.env).to.deep.equal({ ARGS: '--web.listen-address=:9101  --collector.systemd' });
  });

  it('a missing EnvironmentFile without "-": refused, naming it', () => {
    expect(
      refused('prometheus-node-exporter.service', [], { '/etc/default/prometheus-node-exporter': undefined }),
    ).to.equal(
      'prometheus-node-exporter.service: EnvironmentFile=/etc/default/prometheus-node-exporter (/lib/systemd/system/prometheus-node-exporter.service:8) names /etc/default/prometheus-node-exporter, which does not exist: systemd would not start it either',
    );
  });

  it('snmpd: Type=notify runs as a plain child, RuntimeDirectory=agentx made before each start', () => {
    const c = copy('snmpd.service');
    expect(c.exec).to.deep.equal([
      '/usr/sbin/snmpd',
      '-LOw',
      '-u',
      'Debian-snmp',
      '-g',
      'Debian-snmp',
      '-I',
      '-smux,mteTrigger,mteTriggerConf',
      '-f',
    ]);
    expect(c.prestart).to.deep.equal([['install', '-d', '-m', '0755', '/run/agentx']]);
    expect(c.conditions.map((x) => x.path)).to.deep.equal(['/etc/snmp/snmpd.conf']);
  });

  it('drop-ins: an empty ExecStart= resets the list; Environment= and ${VAR} inside a word', () => {
    const c = copy('snmpd.service', {}, [
      '[Service]\nExecStart=\nEnvironment="ADDR=udp:10.20.30.1:161" MORE=x\nExecStart=/usr/sbin/snmpd -f --opt=${MORE} $ADDR\n',
    ]);
    expect(c.exec).to.deep.equal(['/usr/sbin/snmpd', '-f', '--opt=x', 'udp:10.20.30.1:161']);
    expect(refused('snmpd.service', ['[Service]\nExecStart=/usr/sbin/snmpd -x\n'])).to.match(
      /^snmpd\.service: 2 ExecStart= lines \(\/lib\/systemd\/system\/snmpd\.service:\d+, \/etc\/systemd\/system\/snmpd\.service\.d\/0\.conf:2\)/,
    );
  });

  it('refuses, naming the setting: Type=dbus, forking without PIDFile, sandboxing, prefixes, specifiers, "-" ExecStartPre, ExecStartPre with User=', () => {
    expect(refused('polkit.service')).to.equal(
      'polkit.service: Type=dbus (/lib/systemd/system/polkit.service:6) is activated over the system D-Bus, which a copy cannot be',
    );
    expect(refused('snmpd.service', ['[Service]\nType=forking\n'])).to.match(
      /^snmpd\.service: Type=forking \(.*0\.conf:2\) without PIDFile=/,
    );
    expect(refused('snmpd.service', ['[Service]\nProtectSystem=strict\n'])).to.equal(
      'snmpd.service: ProtectSystem=strict (/etc/systemd/system/snmpd.service.d/0.conf:2) cannot be honoured by a copy in the namespace: write the service as exec = ... instead',
    );
    expect(refused('snmpd.service', ['[Service]\nExecStart=\nExecStart=+/usr/sbin/snmpd -f\n'])).to.match(
      /ExecStart=\+\/usr\/sbin\/snmpd -f .* uses the prefix "\+" \(extra privileges\)/,
    );
    expect(refused('snmpd.service', ['[Service]\nExecStart=\nExecStart=/usr/sbin/snmpd -f -p %h/x\n'])).to.match(
      /uses the specifier %h, which a copy does not expand/,
    );
    expect(refused('snmpd.service', ['[Service]\nExecStartPre=-/bin/mkdir /x\n'])).to.match(
      /ExecStartPre=-\/bin\/mkdir \/x .* may fail \(the "-" prefix\)/,
    );
    expect(
      refused('prometheus-node-exporter.service', ['[Service]\nExecStartPre=/bin/true\n'], {
        '/etc/default/prometheus-node-exporter': '',
      }),
    ).to.match(/ExecStartPre=\/bin\/true .* with User=prometheus: systemd runs it as that user/);
  });

  it('forking with PIDFile, %n and %t, KillSignal, ":" keeps $ literal', () => {
    const c = copy('snmpd.service', {}, [
      '[Service]\nType=forking\nPIDFile=/run/snmpd-copy.pid\nKillSignal=INT\nExecStart=\nExecStart=:/usr/sbin/snmpd -p %t/%N.pid $NOPE\n',
    ]);
    expect(c.exec).to.deep.equal(['/usr/sbin/snmpd', '-p', '/run/snmpd.pid', '$NOPE']);
    expect(c.pidfile).to.equal('/run/snmpd-copy.pid');
    expect(c.stopSignal).to.equal('SIGINT');
  });

  it("the section's own keys win over the unit's when the copy is filled in", () => {
    const c = copy('prometheus-node-exporter.service', { '/etc/default/prometheus-node-exporter': 'ARGS=""\n' });
    const svc: ServiceConfig = {
      name: 'node',
      exec: [],
      env: { A: '1' },
      ready: { kind: 'tcp', port: 9100 },
      restart: 'always',
      restartDelayMs: 500,
      restartDelayMaxMs: 30000,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 10000,
      prestart: [],
      user: 'nobody',
      from: {
        unit: 'prometheus-node-exporter.service',
        line: 5,
        written: ['from', 'ready', 'user', 'env'],
        args: ['--x'],
      },
    };
    const f = fillFromUnit(svc, c);
    expect(f.exec).to.deep.equal(['/usr/bin/prometheus-node-exporter', '--x']);
    expect(f.user).to.equal('nobody');
    expect(f.ready).to.deep.equal({ kind: 'tcp', port: 9100 });
    expect(f.stopTimeoutMs).to.equal(20_000);
    expect(f.env).to.deep.equal({ ARGS: '', A: '1' });
    expect(fillFromUnit({ ...svc, from: { ...svc.from!, written: ['from'] } }, c))
      .to.include({ user: 'prometheus' })
      .and.deep.include({ ready: { kind: 'none' } });
  });

  it('the low-level readers: continuations, quotes and escapes, env files, $VAR splitting', () => {
    expect(
      parseUnitFile('/u', '[Service]\n# c\nExecStart=/bin/a \\\n  b\n').map((s) => [s.key, s.value, s.line]),
    ).to.deep.equal([['ExecStart', '/bin/a  b', 3]]);
    expect(unitWords(`a "b c" 'd e' f\\x41 g\\ h`)).to.deep.equal(['a', 'b c', 'd e', 'fA', 'g h']);
    expect(unitWords('a "b')).to.equal('unbalanced double quote');
    expect(parseEnvFile('# x\nA=1\nexport B="two words"\nC=\'$x\'\n; y\nbad line\n')).to.deep.equal({
      A: '1',
      B: 'two words',
      C: '$x',
    });
    expect(expandArgv(['x', '$A', '${A}', 'p${B}q', '$MISSING', 'a$A'], { A: 'one two', B: 'b' })).to.deep.equal([
      'x',
      'one',
      'two',
      'one two',
      'pbq',
      'a$A',
    ]);
  });
});
