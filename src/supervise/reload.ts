// SIGHUP: what changes between the running set and the profile just read. Pure.
import type { ServiceConfig } from '../profile/types.js';

export interface ReloadPlan {
  /** No longer in the profile. */
  stop: string[];
  /** Their definition changed: stopped, then started with the new one. */
  restart: ServiceConfig[];
  /** New in the profile. */
  start: ServiceConfig[];
  /** Unchanged but failed a pre-start check: tried again, since the reload is what it waited for. */
  retry: string[];
}

export function planReload(
  running: Array<{ def: ServiceConfig; prestartFailed: boolean }>,
  next: ServiceConfig[],
): ReloadPlan {
  const wanted = new Map(next.map((d) => [d.name, d]));
  const have = new Map(running.map((r) => [r.def.name, r]));
  const plan: ReloadPlan = { stop: [], restart: [], start: [], retry: [] };
  for (const [n, r] of have) {
    const def = wanted.get(n);
    if (!def) plan.stop.push(n);
    else if (JSON.stringify(def) !== JSON.stringify(r.def)) plan.restart.push(def);
    else if (r.prestartFailed) plan.retry.push(n);
  }
  for (const [n, def] of wanted) if (!have.has(n)) plan.start.push(def);
  return plan;
}
