import { expect } from 'chai';
import { sharedNics } from '../../../src/observe/nic.js';
import { link, nicProfile as profile } from '../helpers.js';

describe('observe/nic: two profiles never select one NIC', () => {
  const a = profile('[interface]\nnic = ens19\naddress = 10.20.30.1/24\n', 'a');
  const byMac = profile('[interface]\nnic = mac:52:54:00:00:00:19\naddress = 10.20.31.1/24\n', 'b');
  const other = profile('[interface]\nnic = ens20\naddress = 10.20.32.1/24\n', 'c');
  const links = [link('ens19', { mac: '52:54:00:00:00:19' }), link('ens20', { mac: '52:54:00:00:00:20' })];
  it('a name and a MAC of one link clash; one line naming both profiles, the link and what to do', () => {
    expect(sharedNics([a, byMac, other], links)).to.deep.equal([
      '/p/b.ini: [interface] nic: b (nic = mac:52:54:00:00:00:19) and a (nic = ens19) select the same NIC (ens19, MAC 52:54:00:00:00:19): a NIC can serve one profile; change nic = in one of them',
    ]);
  });
  it('the permanent MAC counts too (a bond or a changed address)', () => {
    expect(
      sharedNics([a, byMac], [link('ens19', { mac: '02:00:00:00:00:01', permaddr: '52:54:00:00:00:19' })]),
    ).to.have.length(1);
  });
  it('the same name clashes even when no such link is there', () => {
    expect(sharedNics([a, profile('[interface]\nnic = ens19\naddress = 10.1.1.1/24\n', 'd')], [])).to.have.length(1);
  });
  it('different NICs do not clash', () => {
    expect(sharedNics([a, other, byMac], [link('ens19', { mac: '52:54:00:00:00:99' }), links[1]!])).to.deep.equal([]);
  });
});
