/** Helpers shared by the Sigma unit tests (not part of the public surface). */
import { EventView, type SigmaEvent } from './event.js';
import type { Placeholders } from './items.js';
import { parseSigmaRule } from './rule.js';
import type { DetectionRule } from './types.js';

/** Indent a YAML block under `detection:`. */
function indent(block: string): string {
  return block
    .split('\n')
    .map((l) => (l.trim() === '' ? '' : `    ${l}`))
    .join('\n');
}

/** Compile a rule from a detection block written in YAML (condition included). */
export function ruleFrom(detection: string, placeholders?: Placeholders): DetectionRule {
  const r = parseSigmaRule(`title: test\nlogsource:\n    product: test\ndetection:\n${indent(detection)}\n`, { placeholders });
  if (!r.ok) throw new Error(r.reason);
  if (r.rule.kind !== 'detection') throw new Error('not a detection rule');
  return r.rule;
}

/** The reason a detection block is rejected (throws if it compiles). */
export function rejection(detection: string, placeholders?: Placeholders): string {
  const r = parseSigmaRule(`title: test\nlogsource:\n    product: test\ndetection:\n${indent(detection)}\n`, { placeholders });
  if (r.ok) throw new Error('expected a rejection');
  return r.reason;
}

export function hits(rule: DetectionRule, event: SigmaEvent): boolean {
  return rule.match(new EventView(event));
}
