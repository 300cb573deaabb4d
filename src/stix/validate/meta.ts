/** Type-specific properties of the STIX 2.1 meta objects (§7). */
import { isPlainObject } from './context.js';
import { dict, en, list, ref, str, strs, ts } from './props.js';
import type { TypeSpec } from './spec.js';
import * as V from './vocab.js';

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
      if (o['definition_type'] === 'tlp') {
        // §7.2.1.4: the TLP 1.0 object has exactly one property, tlp, white/green/amber/red.
        if (typeof def['tlp'] !== 'string' || !V.TLP1_LEVELS.includes(def['tlp'])) {
          ctx.error('definition.tlp', 'marking.definition', 'tlp must be one of white, green, amber, red');
        }
      }
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
