// A plan is a list of steps; each knows how to undo itself. Pure data: printing and applying
// are elsewhere.

export type Step =
  | { kind: 'ip'; ns: string | null; args: string[]; title: string; undo: Step[] }
  | { kind: 'write'; path: string; content: string; mode: number; title: string; undo: Step[] }
  | { kind: 'remove'; path: string; dir?: boolean; title: string; undo: Step[] }
  | { kind: 'kill-ns-pids'; ns: string; title: string; undo: Step[] };

export interface UpPlan {
  steps: Step[];
  /** Things a person should know (adopted addresses, kept namespace...). */
  notes: string[];
  /** The lock-out guard's reasons that force overrode (logged by whoever forced it: OOB_FORCE is never silent). */
  overridden?: string[];
  nicName: string;
  addresses: string[];
  gateways: string[];
}
