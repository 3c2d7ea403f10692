// dnsmasq as the lab's DHCP server (the dhcp and dhcp6 tests): in the router namespace, bound to
// the router's interfaces only (r0, and r1 where a test puts a host-side client there), DNS off
// (--port=0), its lease, pid and log files in the lab's directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Lab } from './namespaces.js';
import { waitFor } from './probes.js';

/** DHCPv4 on the management LAN (r0, 10.20.30.0/24): leases, the router and the DNS server. */
export const DHCP4_LAN = [
  '--dhcp-range=set:a,10.20.30.100,10.20.30.129,255.255.255.0,2m',
  '--dhcp-option=tag:a,option:router,10.20.30.20',
  '--dhcp-option=tag:a,option:dns-server,10.20.30.53',
];

export const dnsmasqLeases = (lab: Lab) => path.join(lab.dir, 'dnsmasq.leases');
export const dnsmasqLog = (lab: Lab) => path.join(lab.dir, 'dnsmasq.log');

export interface Dnsmasq {
  proc: ChildProcess;
  /** SIGTERM, waited for; its pid file goes, so that the next start waits for a new one. */
  stop(): Promise<void>;
}

/** dnsmasq with `options` (ranges, DHCP options, RAs); returns once it has written its pid file. */
export async function startDnsmasq(lab: Lab, options: string[], opts: { r1?: boolean } = {}): Promise<Dnsmasq> {
  const pidFile = path.join(lab.dir, 'dnsmasq.pid');
  const proc = spawn(
    'ip',
    [
      'netns',
      'exec',
      lab.router,
      '/usr/sbin/dnsmasq',
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--port=0',
      '--bind-interfaces',
      '--interface=r0',
      ...(opts.r1 ? ['--interface=r1'] : []),
      '--except-interface=lo',
      '--dhcp-authoritative',
      ...options,
      `--dhcp-leasefile=${dnsmasqLeases(lab)}`,
      `--pid-file=${pidFile}`,
      `--log-facility=${dnsmasqLog(lab)}`,
      '--log-dhcp',
    ],
    { stdio: 'ignore' },
  );
  await waitFor('dnsmasq to write its pid file', async () => existsSync(pidFile));
  return {
    proc,
    async stop() {
      const gone = new Promise((r) => proc.on('close', r));
      proc.kill('SIGTERM');
      await gone;
      await fsp.rm(pidFile, { force: true });
    },
  };
}
