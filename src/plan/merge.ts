// Merge the plans of several profiles into one, so that `oob up a b c` runs one host-side
// `ip -batch` for all of them instead of one per profile. Pure.
//
// Each step gets a phase from its kind; phases never decrease within one profile's plan (a step
// is never moved before one that came earlier in its own plan), and a stable sort by phase keeps
// each profile's order while bringing the same kind of work of every profile together.
import type { Step } from './types.js';

export type Rank = (s: Step, seenIp: boolean) => number;

/** up: record first, then the host's side (netns add, mark, move), then inside, then files. */
export const upRank: Rank = (s, seenIp) =>
  s.kind === 'ip' ? (s.ns ? 2 : 1) : s.kind === 'sysctl' || s.kind === 'nft' ? 2 : seenIp ? 3 : 0;
/** down: stop processes, move NICs out of their namespaces, restore them in the host, then files. */
export const downRank: Rank = (s) => (s.kind === 'kill-ns-pids' ? 0 : s.kind === 'ip' ? (s.ns ? 1 : 2) : 3);

export function mergePlans(plans: Step[][], rank: Rank): Step[] {
  const tagged: { step: Step; phase: number; order: number }[] = [];
  let order = 0;
  for (const plan of plans) {
    let phase = 0;
    let seenIp = false;
    for (const step of plan) {
      phase = Math.max(phase, rank(step, seenIp));
      if (step.kind === 'ip') seenIp = true;
      tagged.push({ step, phase, order: order++ });
    }
  }
  return tagged.sort((a, b) => a.phase - b.phase || a.order - b.order).map((t) => t.step);
}
