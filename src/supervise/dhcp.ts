// Readiness with address = dhcp / dhcp6 / auto: the supervisor is ready once every dynamic address
// the profile asks for is in place (the hook wrote an unexpired DHCPv4 / DHCPv6 lease; the kernel
// made a SLAAC address from a router advertisement), not when a client merely runs. After
// DHCP_READY_TIMEOUT_MS without them it tells systemd READY=1 anyway, with a STATUS that says it is
// not ready and still trying, so that a management network without a DHCP server or router does
// not fail the unit's start (the clients and the kernel keep trying).
import { parseLinks } from '../net/ipjson.js';
import { slaacAddresses } from '../observe/slaac.js';
import type { InterfaceConfig } from '../profile/types.js';
import { leaseValid, readLease } from '../state/lease.js';
import type { Runner } from '../sys/run.js';

export const DHCP_READY_TIMEOUT_MS = 30_000;
const POLL_MS = 1000;
/** Once everything is in place it is looked at less often (a SLAAC check starts `ip`). */
const POLL_READY_MS = 5000;

export interface Want {
  /** What is missing, for STATUS: "DHCP lease", "DHCPv6 lease", "SLAAC address". */
  what: string;
  check: () => Promise<boolean>;
}

/** What the profile's dynamic addresses make the supervisor wait for. */
export function addressWants(runtimeDir: string, profile: string, iface: InterfaceConfig, run: Runner): Want[] {
  const lease = (fam: 4 | 6) => async () => leaseValid(await readLease(runtimeDir, profile, fam), Date.now());
  const slaac = async () => {
    const r = await run(['ip', '-n', profile, '-j', '-6', 'addr', 'show', 'scope', 'global'], {
      allowFail: true,
      timeoutMs: 5000,
    });
    if (r.code !== 0) return false;
    try {
      return parseLinks(r.stdout).some((l) => slaacAddresses(l.addrs).length > 0);
    } catch {
      return false;
    }
  };
  return [
    ...(iface.dhcp4 ? [{ what: 'DHCP lease', check: lease(4) }] : []),
    ...(iface.dhcp6 ? [{ what: 'DHCPv6 lease', check: lease(6) }] : []),
    ...(iface.slaac ? [{ what: 'SLAAC address', check: slaac }] : []),
  ];
}

export class LeaseWatch {
  ready = false;
  timedOut = false;
  /** The wants not in place at the last look. */
  missing: string[];
  private poll: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private wants: Want[],
    private onChange: () => void,
    private timeoutMs = DHCP_READY_TIMEOUT_MS,
  ) {
    this.missing = wants.map((w) => w.what);
  }

  start(): void {
    const check = async () => {
      const ok = await Promise.all(this.wants.map((w) => w.check().catch(() => false)));
      if (this.stopped) return;
      const missing = this.wants.filter((_, i) => !ok[i]).map((w) => w.what);
      const changed = missing.join() !== this.missing.join() || !missing.length !== this.ready;
      this.missing = missing;
      this.ready = !missing.length;
      if (changed) this.onChange();
      this.poll = setTimeout(() => void check(), this.ready ? POLL_READY_MS : POLL_MS);
    };
    void check();
    this.timer = setTimeout(() => {
      this.timedOut = true;
      if (!this.ready) this.onChange();
    }, this.timeoutMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.poll) clearTimeout(this.poll);
    if (this.timer) clearTimeout(this.timer);
  }
}
