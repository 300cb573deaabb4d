import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { MAX_YAML_FLOW_DEPTH, MAX_YAML_LINE_DEPTH, yamlNestingRefusal } from './yaml-guard.js';

const flow = (d: number) => `a: ${'['.repeat(d)}x${']'.repeat(d)}\n`;

describe('yamlNestingRefusal', () => {
  it('accepts flow collections up to the limit and refuses one level more, naming the line', () => {
    expect(yamlNestingRefusal(flow(MAX_YAML_FLOW_DEPTH))).toBeNull();
    expect(yamlNestingRefusal(`title: t\nb: 1\n${flow(MAX_YAML_FLOW_DEPTH + 1)}`)).toBe(`YAML nests flow collections deeper than ${MAX_YAML_FLOW_DEPTH} levels (line 3)`);
    // Mappings and sequences alike, and across lines.
    expect(yamlNestingRefusal(`a: ${'{b: ['.repeat(40)}1${']}'.repeat(40)}`)).toMatch(/deeper than 64/);
    expect(yamlNestingRefusal(`a:\n${'[\n'.repeat(70)}x${']'.repeat(70)}`)).toMatch(/line 66\)/);
  });

  it('counts only what the parser nests: brackets in scalars, comments and block scalars are text', () => {
    const many = '['.repeat(500);
    const text = [
      `plain: a${many}`, `single: '${many}'`, `double: "${many}"`, `# ${many}`, 'block: |', `  ${many}`, `  {{{${many}`, 'folded: >', `  ${many}`,
      `list: [a, 'b${many}', "c${many}"]`, 'multi: "line one', `  ${many} line two"`,
    ].join('\n');
    expect(yamlNestingRefusal(text)).toBeNull();
    // The parser agrees that this document is shallow.
    expect(parseAllDocuments(text)[0]!.errors).toEqual([]);
  });

  it('bounds block nesting by indentation and block indicators on a line', () => {
    const nested = (d: number) => 'a:\n' + Array.from({ length: d }, (_, i) => `${' '.repeat(i + 2)}b:`).join('\n') + ' x\n';
    expect(yamlNestingRefusal(nested(200))).toBeNull();
    expect(yamlNestingRefusal(nested(300))).toMatch(new RegExp(`deeper than ${MAX_YAML_LINE_DEPTH} levels \\(line 257:`));
    expect(yamlNestingRefusal(`a:\n${'- '.repeat(200)}x\n`)).toBeNull();
    expect(yamlNestingRefusal(`a:\n${'- '.repeat(300)}x\n`)).toMatch(/line 2: indentation/);
    expect(yamlNestingRefusal(`${'? '.repeat(300)}x\n`)).toMatch(/deeper than 256/);
  });

  it('is linear: a megabyte of nesting is refused at once without reaching the parser', () => {
    expect(yamlNestingRefusal(flow(500_000))).toMatch(/deeper than 64/);
    expect(yamlNestingRefusal(`a: ${'[x, '.repeat(200_000)}`)).toMatch(/deeper than 64/);
  });
});
