/** Type-specific properties of the STIX 2.1 meta objects (§7). */
import { TLP1_MARKINGS } from '../tlp.js';
import { isPlainObject } from './context.js';
import type { Ctx } from './context.js';
import { dict, en, list, ref, str, strs, ts } from './props.js';
import type { TypeSpec } from './spec.js';
import * as V from './vocab.js';

/**
 * §7.2.1.4: TLP 1.0 markings are the four predefined objects and no others ("Other
 * instances of tlp-marking MUST NOT be used or created"); the OASIS schema pins them exactly.
 */
function checkTlp1(o: Readonly<Record<string, unknown>>, def: Readonly<Record<string, unknown>>, ctx: Ctx): void {
  const level = def['tlp'];
  if (typeof level !== 'string' || !V.TLP1_LEVELS.includes(level)) {
    return void ctx.error('definition.tlp', 'marking.definition', 'tlp must be one of white, green, amber, red');
  }
  const canonical = TLP1_MARKINGS[level as keyof typeof TLP1_MARKINGS] as unknown as Record<string, unknown>;
  for (const k of ['id', 'name', 'created']) {
    if (o[k] !== canonical[k]) ctx.error(k, 'marking.definition', `a TLP:${level.toUpperCase()} marking must have ${k} ${String(canonical[k])}`);
  }
  if (Object.keys(def).length !== 1) ctx.error('definition', 'marking.definition', 'a TLP definition has only the tlp property');
  for (const k of Object.keys(o)) {
    if (!(k in canonical)) ctx.error(k, 'marking.definition', `the predefined TLP markings carry no ${k}`);
  }
}

export const META_SPECS: Readonly<Record<string, TypeSpec>> = {
  'language-content': {
    required: ['object_ref', 'contents'],
    props: { object_ref: ref('@any'), object_modified: ts, contents: dict(dict()) },
  },
  'marking-definition': {
    required: [],
    props: { name: str(), definition_type: str(), definition: dict() },
    check: (o, ctx) => {
      // §7.2.1: definition_type and definition are required unless an extension defines the marking.
      if (!('extensions' in o)) {
        for (const k of ['definition_type', 'definition']) {
          if (!(k in o)) ctx.error(k, 'marking.definition', `${k} is required when extensions is absent`);
        }
      }
      if (('definition_type' in o) !== ('definition' in o)) {
        ctx.error('definition', 'marking.definition', 'definition_type and definition come together');
      }
      const def = o['definition'];
      if (!isPlainObject(def)) return;
      if (o['definition_type'] === 'tlp') checkTlp1(o, def, ctx);
      if (o['definition_type'] === 'statement' && typeof def['statement'] !== 'string') {
        ctx.error('definition.statement', 'marking.definition', 'a statement marking has a string statement');
      }
    },
  },
  'extension-definition': {
    required: ['created_by_ref', 'name', 'schema', 'version', 'extension_types'],
    props: {
      name: str(), description: str(), schema: str(), version: str(), extension_types: list(en(V.EXTENSION_TYPE_ENUM)),
      extension_properties: strs,
    },
  },
};
