import { expect } from 'chai';
import { newProfileText, setKeys } from '../../../src/profile/edit.js';

describe('profile/edit', () => {
  const text = `# my management profile\n[interface]\n# the spare port\nnic = ens19   ; was eth1\naddress = 10.0.0.1/24\n\n[service.sshd]\nexec = /usr/sbin/sshd -D\n`;
  it('changes a key in place, keeping comments and other sections', () => {
    const out = setKeys(text, 'interface', { nic: 'ens20', gateway: undefined });
    expect(out).to.equal(text.replace('nic = ens19   ; was eth1', 'nic = ens20'));
  });
  it("adds a missing key after the section's last line, before the blank line", () => {
    const out = setKeys(text, 'interface', { gateway: '10.0.0.20' });
    expect(out).to.equal(
      `# my management profile\n[interface]\n# the spare port\nnic = ens19   ; was eth1\naddress = 10.0.0.1/24\ngateway = 10.0.0.20\n\n[service.sshd]\nexec = /usr/sbin/sshd -D\n`,
    );
  });
  it('adds a missing section at the end', () => {
    expect(setKeys('[dns]\nsearch = x\n', 'interface', { nic: 'ens19' })).to.equal(
      '[dns]\nsearch = x\n\n[interface]\nnic = ens19\n',
    );
  });
  it('fills a new profile', () => {
    const out = setKeys(newProfileText('mgmt'), 'interface', { nic: 'ens19', address: '10.20.30.1/24' });
    expect(out).to.match(/^# oob profile "mgmt"/);
    expect(out).to.match(/\[interface\]\nnic = ens19\naddress = 10\.20\.30\.1\/24\n$/);
  });
});
