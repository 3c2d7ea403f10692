// Readiness with address = dhcp: the supervisor is ready once the lease is in place (the hook wrote
// an unexpired lease), not when udhcpc merely runs. After DHCP_READY_TIMEOUT_MS without a lease it
// tells systemd READY=1 anyway, with a STATUS that says it is not ready and still trying, so that
// a management network without a DHCP server does not fail the unit's start (udhcpc keeps trying).
import { leaseValid, readLease } from '../state/lease.js';

export const DHCP_READY_TIMEOUT_MS = 30_000;
const POLL_MS = 1000;

export class LeaseWatch {
  ready = false;
  timedOut = false;
  private poll: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private runtimeDir: string,
    private profile: string,
    private onChange: () => void,
    private timeoutMs = DHCP_READY_TIMEOUT_MS,
  ) {}

  start(): void {
    const check = async () => {
      const ok = leaseValid(await readLease(this.runtimeDir, this.profile), Date.now());
      if (ok !== this.ready) {
        this.ready = ok;
        this.onChange();
      }
    };
    void check();
    this.poll = setInterval(() => void check(), POLL_MS);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      if (!this.ready) this.onChange();
    }, this.timeoutMs);
  }

  stop(): void {
    if (this.poll) clearInterval(this.poll);
    if (this.timer) clearTimeout(this.timer);
  }
}
