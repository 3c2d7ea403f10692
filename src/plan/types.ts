// A plan is a list of steps; each knows how to undo itself. Pure data: printing and applying
// are elsewhere.
import { OobError } from '../errors.js';

/**
 * What every step may carry besides its action: an id, and the ids of the steps it needs. A step
 * whose needed step failed (or was itself not run) is not run: `down` stops at a failed move-back
 * instead of applying the NIC's host configuration to whatever link now has its name.
 */
interface StepBase {
  title: string;
  undo: Step[];
  id?: string;
  needs?: string[];
}

export type Step =
  | (StepBase & { kind: 'ip'; ns: string | null; args: string[] })
  | (StepBase & { kind: 'write'; path: string; content: string; mode: number })
  | (StepBase & { kind: 'remove'; path: string; dir?: boolean })
  | (StepBase & { kind: 'kill-ns-pids'; ns: string })
  /** A sysctl of a namespace (net.* keys are per network namespace); ns null: the host's. */
  | (StepBase & { kind: 'sysctl'; ns: string | null; key: string; value: string })
  /** An nftables script loaded in one transaction (`nft -f -`) in a namespace, or the host (ns null). */
  | (StepBase & { kind: 'nft'; ns: string | null; script: string });

export interface UpPlan {
  steps: Step[];
  /** Things a person should know (adopted addresses, kept namespace...). */
  notes: string[];
  /** The lock-out guard's reasons that force overrode (logged by whoever forced it: OOB_FORCE is never silent). */
  overridden?: string[];
  /** Absent: the profile has no NIC (its namespace is reached through its veth). */
  nicName?: string;
  /** The NIC's addresses; without a NIC, those of the veth's end in the namespace. */
  addresses: string[];
  gateways: string[];
}

/** Why a planner refuses, when a caller decides by it (never by the message text). */
export type RefusalReason = 'nicNotInHost';

/** A planner's refusal: an OobError with a typed reason the engine can act on. */
export class PlanRefusal extends OobError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super('precondition', message);
  }
}
