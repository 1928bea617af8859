/**
 * The mirror's rules, by op name: 'add' serves torch.add and Tensor.add; namespaced ops use
 * their Python path ('nn.functional.relu', 'linalg.norm'). Each family file registers its
 * rules here; ops without a rule take the pending path (the runtime reports metadata).
 */
import type { MetaRule } from './dispatch.js';

export const RULES = new Map<string, MetaRule>();

/** Ops whose rule cannot validate everything (so call sites are recorded for them). */
export const MAY_FAIL = new Set<string>();

export function rule(name: string, fn: MetaRule, opts: { mayFail?: boolean } = {}): void {
  RULES.set(name, fn);
  if (opts.mayFail) MAY_FAIL.add(name);
}
