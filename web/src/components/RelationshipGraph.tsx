/**
 * Radial relationship graph: the object in the centre, each related object on a circle around
 * it, one edge per relationship labelled with its relationship_type and pointing from
 * source_ref to target_ref (STIX 2.1 §5.1). Drawn by hand in SVG: a radial layout of one hop
 * needs no layout engine, which keeps the bundle small.
 */
import type { KeyboardEvent } from 'react';
import { href, navigate } from '../router.js';
import type { Relationship } from '../types.js';

export interface GraphNode { id: string; type: string; name: string | null; visible: boolean }
export interface GraphEdge { id: string; label: string; from: string; to: string }

/** Nodes and edges of the one-hop neighbourhood of `centreId`. Exported for reuse and tests. */
export function neighbourhood(centre: GraphNode, rels: Relationship[]): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes = new Map<string, GraphNode>([[centre.id, centre]]);
  const edges: GraphEdge[] = [];
  for (const r of rels) {
    const outgoing = r.source_ref === centre.id;
    const otherId = outgoing ? r.target_ref : r.source_ref;
    const other = outgoing ? r.target : r.source;
    if (!nodes.has(otherId)) {
      nodes.set(otherId, { id: otherId, type: other?.type ?? otherId.split('--')[0] ?? 'object', name: other?.name ?? null, visible: other !== null });
    }
    edges.push({ id: r.id, label: r.relationship_type, from: r.source_ref, to: r.target_ref });
  }
  return { nodes: [...nodes.values()], edges };
}

const NODE_R = 26;
const MAX_NODES = 36;

function shorten(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

const TYPE_COLOURS: Record<string, string> = {
  indicator: '#4f8df5', malware: '#e0565b', 'threat-actor': '#c77dff', 'intrusion-set': '#9d4edd', campaign: '#f28482',
  'attack-pattern': '#f4a259', tool: '#90be6d', vulnerability: '#f9c74f', identity: '#43aa8b', infrastructure: '#577590',
  report: '#adb5bd', location: '#4d908e', 'course-of-action': '#277da1', sighting: '#f3722c',
};

export function RelationshipGraph({ centre, relationships }: { centre: GraphNode; relationships: Relationship[] }) {
  const { nodes, edges } = neighbourhood(centre, relationships);
  const around = nodes.slice(1, MAX_NODES + 1);
  const hidden = nodes.length - 1 - around.length;
  const radius = Math.max(170, (around.length * (NODE_R * 2 + 26)) / (2 * Math.PI));
  const size = 2 * (radius + NODE_R + 70);
  const c = size / 2;
  const pos = new Map<string, { x: number; y: number }>([[centre.id, { x: c, y: c }]]);
  around.forEach((n, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(around.length, 1);
    pos.set(n.id, { x: c + radius * Math.cos(a), y: c + radius * Math.sin(a) });
  });

  const open = (n: GraphNode) => { if (n.visible && n.id !== centre.id) navigate(href.detail(n.id)); };
  const onKey = (n: GraphNode) => (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(n); }
  };

  return (
    <figure className="graph" data-testid="relationship-graph">
      <svg viewBox={`0 0 ${size} ${size}`} width="100%" style={{ maxWidth: size }} role="group"
        aria-label={`Relationship graph: ${around.length} related objects`}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" className="graph-arrow" />
          </marker>
        </defs>
        {edges.map((e) => {
          const a = pos.get(e.from);
          const b = pos.get(e.to);
          if (!a || !b) return null;
          const dx = b.x - a.x;
          const dy = b.y - a.y;
          const len = Math.hypot(dx, dy) || 1;
          const [x1, y1] = [a.x + (dx / len) * NODE_R, a.y + (dy / len) * NODE_R];
          const [x2, y2] = [b.x - (dx / len) * (NODE_R + 2), b.y - (dy / len) * (NODE_R + 2)];
          // Labels sit nearer the outer node, away from the crowded centre.
          const outer = e.from === centre.id ? b : a;
          const [lx, ly] = [c + (outer.x - c) * 0.5, c + (outer.y - c) * 0.5];
          return (
            <g key={e.id} className="graph-edge" data-testid="graph-edge">
              <line x1={x1} y1={y1} x2={x2} y2={y2} markerEnd="url(#arrow)" />
              <text x={lx} y={ly - 4} textAnchor="middle">{e.label}</text>
            </g>
          );
        })}
        {[centre, ...around].map((n) => {
          const p = pos.get(n.id);
          if (!p) return null;
          const isCentre = n.id === centre.id;
          const clickable = n.visible && !isCentre;
          const title = `${n.type}: ${n.name ?? n.id}${n.visible ? '' : ' (not visible to you)'}`;
          return (
            <g key={n.id} transform={`translate(${p.x},${p.y})`} data-testid="graph-node" data-id={n.id}
              className={`graph-node${isCentre ? ' centre' : ''}${clickable ? ' clickable' : ''}${n.visible ? '' : ' hidden-object'}`}
              role={clickable ? 'link' : undefined} tabIndex={clickable ? 0 : undefined} aria-label={title}
              onClick={() => open(n)} onKeyDown={onKey(n)}>
              <title>{title}</title>
              <circle r={isCentre ? NODE_R + 6 : NODE_R} fill={TYPE_COLOURS[n.type] ?? '#8d99ae'} />
              <text className="node-type" textAnchor="middle" dy="0.35em">{shorten(n.type, 10)}</text>
              <text className="node-name" textAnchor="middle" y={(isCentre ? NODE_R + 6 : NODE_R) + 14}>
                {shorten(n.name ?? (n.visible ? n.id.split('--')[0] ?? n.id : 'not visible'), 22)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="muted">
        {around.length === 0 ? 'No relationships visible to you.' : 'Select a related object to open it.'}
        {hidden > 0 && ` ${hidden} more related objects are listed below but not drawn.`}
      </figcaption>
    </figure>
  );
}
