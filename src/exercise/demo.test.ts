import { describe, expect, it } from 'vitest';
import { demoScenario } from './demo.js';
import { parseScenario } from './validate.js';
import { technicalLines } from './telemetry.js';
import { INJECT_TYPES } from './model.js';

describe('the demo scenario', () => {
  const sc = demoScenario({ ald: 'identity--a', crv: 'identity--c', dsk: 'identity--d' });
  it('is valid, has three teams, at least eight injects of every type and one conditional inject', () => {
    const r = parseScenario(sc);
    expect(r.ok ? [] : r.errors).toEqual([]);
    expect(sc.teams).toHaveLength(3);
    expect(sc.injects.length).toBeGreaterThanOrEqual(8);
    expect(new Set(sc.injects.map((i) => i.type))).toEqual(new Set(INJECT_TYPES));
    expect(sc.injects.filter((i) => i.dependsOn?.length)).toHaveLength(1);
  });
  it('its technical injects leave what the demo detection content looks for', () => {
    const lines = (id: string) => { const i = sc.injects.find((x) => x.id === id)!; return i.payload.kind === 'technical' ? technicalLines(i.payload, { at: 0, teamId: 'ald', seed: 's' }).map((l) => JSON.parse(l) as Record<string, unknown>) : []; };
    expect(lines('discovery').some((e) => String(e.Image).endsWith('\\whoami.exe') && e.EventID === 1)).toBe(true);
    expect(lines('encoded-ps').some((e) => String(e.Image).endsWith('\\powershell.exe') && String(e.CommandLine).includes(' -enc '))).toBe(true);
    expect(lines('palefern-c2').some((e) => e.event_type === 'flow' && e.dest_ip === '198.51.100.23')).toBe(true);
    expect(lines('palefern-c2').some((e) => e._path === 'conn' && e['id.resp_h'] === '198.51.100.23')).toBe(true);
  });
});
