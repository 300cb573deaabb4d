/** Public types of the indicator index. */
import type { PatternClass } from './compile.js';
import type { WindowOptions } from './window.js';

/** The indicator fields the index reads (STIX 2.1 §4.5). */
export interface IndicatorInput {
  readonly id: string;
  readonly pattern: string;
  readonly pattern_type: string;
  readonly valid_from: string;
  readonly valid_until?: string;
  readonly revoked?: boolean;
}

/** Organisations an indicator is released to: a set/list of organisation ids, or a predicate. */
export type Release = ReadonlySet<string> | readonly string[] | ((orgId: string) => boolean);

export type AddResult = { readonly ok: true; readonly cls: PatternClass } | { readonly ok: false; readonly reason: string };

export interface IndicatorMatch {
  readonly indicatorId: string;
  /** exact: hash-table hit; cidr: trie hit; pattern: evaluated on this event; sequence: over the window. */
  readonly via: 'exact' | 'cidr' | 'pattern' | 'sequence';
  /** For exact / cidr hits: the object path and the observed value that hit. */
  readonly path?: string;
  readonly value?: unknown;
}

export interface IndexStats {
  readonly indicators: number;
  readonly byClass: Readonly<Record<PatternClass, number>>;
  readonly exact: { readonly tables: number; readonly keys: number };
  readonly cidr: { readonly tables: number; readonly blocks: number; readonly trieNodes: number };
  readonly window: { readonly organisations: number; readonly observations: number };
}

export interface IndexOptions {
  readonly window?: WindowOptions;
}
