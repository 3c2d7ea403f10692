import { expect } from 'chai';
import { parseProfile, ProfileProblems } from '../../../src/profile/parse.js';
import { PRESETS } from '../../../src/profile/presets.js';
import { serviceSection, withServices } from '../../../src/profile/services.js';
import { newProfileText } from '../../../src/profile/edit.js';
import type { Profile } from '../../../src/profile/types.js';

const base = '[interface]\nnic = ens19\naddress = 10.20.30.1/24\n';
const parse = (extra: string, runtimeDir = '/run/oob') =>
  parseProfile('mgmt', '/p/mgmt.ini', base + extra, { runtimeDir });
const ok = (extra: string, runtimeDir?: string): Profile => {
  const p = parse(extra, runtimeDir);
  if (p instanceof ProfileProblems) throw new Error(p.lines().join('\n'));
  return p;
};
const problems = (extra: string) => {
  const p = parse(extra);
  if (!(p instanceof ProfileProblems)) throw new Error('expected problems');
  return p.lines();
};

describe('profile presets', () => {
  it('sshd: its own pidfile under the runtime directory, listening on every namespace address, sshd -t and /run/sshd before each start', () => {
    const s = ok('[service.sshd]\npreset = sshd\n', '/run/oob').services[0]!;
    expect(s.exec).to.deep.equal([
      '/usr/sbin/sshd',
      '-o',
      'PidFile=/run/oob/mgmt/sshd.pid',
      '-o',
      'ListenAddress=0.0.0.0',
      '-o',
      'ListenAddress=::',
    ]);
    expect(s.pidfile).to.equal('/run/oob/mgmt/sshd.pid');
    expect(s.ready).to.deep.equal({ kind: 'pidfile' });
    expect(s.preset).to.equal('sshd');
    expect(s.prestart).to.deep.equal([
      ['mkdir', '-p', '-m', '0755', '/run/sshd'],
      [
        '/usr/sbin/sshd',
        '-t',
        '-o',
        'PidFile=/run/oob/mgmt/sshd.pid',
        '-o',
        'ListenAddress=0.0.0.0',
        '-o',
        'ListenAddress=::',
      ],
    ]);
    expect(s.exec.join(' ')).to.not.include('/run/sshd.pid');
  });

  it('the pidfile follows the runtime directory and the section name', () => {
    const s = ok('[service.ssh2]\npreset = sshd\n', '/tmp/rt').services[0]!;
    expect(s.pidfile).to.equal('/tmp/rt/mgmt/ssh2.pid');
    expect(s.exec).to.include('PidFile=/tmp/rt/mgmt/ssh2.pid');
  });

  it('keys written in the section win; args are appended to the command line and to its check', () => {
    const s = ok(
      '[service.sshd]\npreset = sshd\npidfile = /run/my.pid\nargs = -f /etc/ssh/mgmt_config\nready = tcp:22\nrestart = on-failure\n',
    ).services[0]!;
    expect(s.pidfile).to.equal('/run/my.pid');
    expect(s.exec).to.deep.equal([
      '/usr/sbin/sshd',
      '-o',
      'PidFile=/run/my.pid',
      '-o',
      'ListenAddress=0.0.0.0',
      '-o',
      'ListenAddress=::',
      '-f',
      '/etc/ssh/mgmt_config',
    ]);
    expect(s.prestart[1]).to.deep.equal(['/usr/sbin/sshd', '-t', ...s.exec.slice(1)]);
    expect(s.ready).to.deep.equal({ kind: 'tcp', port: 22 });
    expect(s.restart).to.equal('on-failure');
    const own = ok('[service.sshd]\npreset = sshd\nexec = /opt/sshd -D\n').services[0]!;
    expect(own.exec).to.deep.equal(['/opt/sshd', '-D']);
    expect(own.prestart[1]).to.deep.equal(['/opt/sshd', '-t', '-D']);
  });

  it('every preset expands to an absolute program, a pidfile or a readiness, and its program first in exec', () => {
    for (const p of Object.values(PRESETS)) {
      const v = p.expand({ profile: 'x', service: p.name, runtimeDir: '/run/oob' }, { args: [] });
      expect(v.exec[0]).to.equal(p.program);
      expect(p.program.startsWith('/')).to.equal(true);
      expect(v.ready.kind).to.not.equal('none');
    }
  });

  it('an unknown preset, preset with from, args without either, a bad unit name: one line each', () => {
    expect(problems('[service.sshd]\npreset = shd\n')).to.deep.equal([
      '/p/mgmt.ini:5: [service.sshd] preset: unknown preset "shd" (did you mean "sshd"?): the presets are sshd (see oob presets); or copy an installed unit with from = UNIT.service',
    ]);
    expect(problems('[service.a]\npreset = sshd\nfrom = ssh.service\n')).to.deep.equal([
      '/p/mgmt.ini:6: [service.a] from: give preset = or from =, not both',
    ]);
    expect(problems('[service.a]\nexec = /bin/true\nargs = -x\n')[0]).to.match(
      /:6: \[service\.a\] args: args = adds arguments .* without preset = or from =/,
    );
    expect(problems('[service.a]\nfrom = getty@tty1.service\n')[0]).to.match(
      /:5: \[service\.a\] from: "getty@tty1\.service" is a template or instance unit/,
    );
    expect(problems('[service.a]\nfrom = snmpd\n')[0]).to.match(
      /:5: \[service\.a\] from: "snmpd" is not a systemd service name like snmpd\.service/,
    );
  });

  it('from = keeps what the section wrote, for the unit reader to fill in the rest', () => {
    const s = ok(
      '[service.node]\nfrom = prometheus-node-exporter.service\nready = tcp:9100\nargs = --web.listen-address=:9101\n',
    ).services[0]!;
    expect(s.from).to.deep.equal({
      unit: 'prometheus-node-exporter.service',
      line: 5,
      written: ['from', 'ready', 'args'],
      args: ['--web.listen-address=:9101'],
    });
    expect(s.exec).to.deep.equal([]);
  });
});

describe('profile services that enable adds', () => {
  it('a profile without services gets an sshd copy; --service picks presets or units; [] none', () => {
    const t = newProfileText('mgmt').replace('[interface]\n', '[interface]\nnic = ens19\naddress = 10.20.30.1/24\n');
    const d = withServices(t);
    expect(d).to.match(/\[service\.sshd\]\npreset = sshd\n$/);
    expect(ok(d.slice(d.indexOf('[service'))).services.map((s) => s.preset)).to.deep.equal(['sshd']);
    const two = withServices(t, ['sshd', 'snmpd.service']);
    expect(two).to.match(/\[service\.sshd\]\npreset = sshd\n\n\[service\.snmpd\]\nfrom = snmpd\.service\n$/);
    expect(withServices(t, [])).to.equal(t);
  });

  it("an existing profile's services are left alone", () => {
    const t = base + '[service.web]\nexec = /usr/bin/web\n';
    expect(withServices(t)).to.equal(t);
    expect(withServices(t, ['sshd'])).to.equal(t);
  });

  it('a --service that is neither a preset nor a unit name: exit 3 (badProfile), naming it', () => {
    expect(() => serviceSection('telnetd'))
      .to.throw(/--service telnetd: not a preset \(sshd: see oob presets\)/)
      .with.property('code', 'badProfile');
    expect(serviceSection('node.service')).to.deep.equal({ section: 'service.node', keys: { from: 'node.service' } });
  });
});
