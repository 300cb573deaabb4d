/**
 * A self-contained HTML rendering of the OpenAPI document (no scripts, no external assets:
 * nodes may run without internet access): every operation with its parameters, body and
 * answers, then every schema with its properties.
 */
import type { FastifyInstance } from 'fastify';
import { catalogOf } from './catalog.js';
import { buildOpenApi } from './openapi-build.js';
import { HTTP_METHODS, OPENAPI, type HttpMethod, type JsonSchema, type OpenApiDocument, type OpenApiOperation } from './openapi.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Inline code spans of the descriptions (`x`) as <code>. */
const prose = (s: string | undefined): string => (s ? esc(s).replace(/`([^`]+)`/g, '<code>$1</code>') : '');

/** A one-line reading of a schema: `IntelSummary[]`, `string | null`, `"clear" | "green"`... */
export function typeOf(s: JsonSchema | undefined): string {
  if (!s) return 'any';
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop()!;
    return `<a href="#schema-${esc(name)}">${esc(name)}</a>`;
  }
  if ('const' in s) return esc(JSON.stringify(s.const));
  if (Array.isArray(s.enum)) return s.enum.map((v) => esc(JSON.stringify(v))).join(' | ');
  if (Array.isArray(s.anyOf)) return (s.anyOf as JsonSchema[]).map(typeOf).join(' | ');
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : [];
  return types.map((t) => (t === 'array' ? `${typeOf(s.items as JsonSchema | undefined)}[]` : esc(t))).join(' | ') || 'any';
}

function operation(path: string, method: HttpMethod, op: OpenApiOperation, doc: OpenApiDocument): string {
  const security = op.security ?? doc.security;
  const rows = (op.parameters ?? []).map((p) => `<tr><td><code>${esc(p.name)}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : ''}</td><td>${typeOf(p.schema)}</td><td>${prose(p.description)}</td></tr>`).join('');
  const body = op.requestBody
    ? `<h4>Body${op.requestBody.required ? ' (required)' : ''}</h4><ul>${Object.entries(op.requestBody.content).map(([media, c]) => `<li><code>${esc(media)}</code>: ${typeOf(c.schema)}</li>`).join('')}</ul>${op.requestBody.description ? `<p>${prose(op.requestBody.description)}</p>` : ''}`
    : '';
  const answers = Object.entries(op.responses).map(([status, r]) => {
    const content = Object.entries(r.content ?? {}).map(([media, c]) => `<code>${esc(media)}</code> ${typeOf(c.schema)}`).join(', ');
    return `<tr><td>${esc(status)}</td><td>${prose(r.description)}</td><td>${content}</td></tr>`;
  }).join('');
  return `<section class="op" id="op-${esc(op.operationId)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p><strong>${esc(op.summary)}</strong>${security.length ? '' : ' <em>(no authentication)</em>'}${op['x-generated'] ? ' <em>(from the route declaration)</em>' : ''}</p>
${op.description ? `<p>${prose(op.description)}</p>` : ''}
${rows ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>type</th><th>description</th></tr>${rows}</table>` : ''}
${body}
<h4>Answers</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>${answers}</table>
</section>`;
}

function schema(name: string, s: JsonSchema): string {
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((s.required ?? []) as string[]);
  const rows = Object.entries(props).map(([k, v]) => `<tr><td><code>${esc(k)}</code></td><td>${required.has(k) ? 'yes' : ''}</td><td>${typeOf(v)}</td><td>${prose(v.description as string | undefined)}</td></tr>`).join('');
  return `<section id="schema-${esc(name)}"><h3>${esc(name)}</h3>${s.description ? `<p>${prose(s.description as string)}</p>` : ''}
${rows ? `<table><tr><th>property</th><th>required</th><th>type</th><th>description</th></tr>${rows}</table>` : `<p>${typeOf(s)}</p>`}</section>`;
}

export function renderDocsPage(doc: OpenApiDocument = OPENAPI): string {
  const ops: string[] = [];
  const toc: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      ops.push(operation(path, method, op, doc));
      toc.push(`<li><a href="#op-${esc(op.operationId)}"><span class="m ${method}">${method.toUpperCase()}</span> ${esc(path)}</a></li>`);
    }
  }
  const schemas = Object.entries(doc.components.schemas).map(([n, s]) => schema(n, s)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;color:#1b1f24}
code{font-family:ui-monospace,monospace;background:#f2f4f7;padding:0 .25em;border-radius:3px}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.op{border-top:2px solid #d0d7de;margin-top:1.5rem}.m{font:bold 12px ui-monospace,monospace;padding:.1rem .4rem;border-radius:3px;color:#fff}
.get{background:#0969da}.post{background:#1a7f37}.put,.patch{background:#9a6700}.delete{background:#cf222e}ul.toc{columns:2;list-style:none;padding:0}ul.toc a{text-decoration:none}
</style></head>
<body>
<h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
<p>${prose(doc.info.description)}</p>
<p>Authentication: <code>Authorization: Bearer &lt;token&gt;</code> unless marked otherwise. Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p>
<h2>Operations</h2><ul class="toc">${toc.join('')}</ul>
${ops.join('\n')}
<h2>Schemas</h2>
${schemas}
</body></html>
`;
}

/**
 * The document of this app: built on first use, when every route is registered (the catalog
 * is filled by the root onRoute hook of api/app.ts; without it, the hand-written part alone).
 */
function lazyDocument(app: FastifyInstance): () => OpenApiDocument {
  let doc: OpenApiDocument | undefined;
  return () => (doc ??= buildOpenApi(catalogOf(app)?.routes));
}

/** `GET /openapi.json` under the REST prefix; no authentication: the document holds no data. */
export async function openapiRoutes(app: FastifyInstance): Promise<void> {
  const doc = lazyDocument(app);
  let body: string | undefined;
  app.get('/openapi.json', async (_req, reply) => reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-cache').send(body ??= JSON.stringify(doc())));
}

/** `GET /docs` under `/api`: rendered once; the page has no scripts, so the CSP forbids them. */
export async function docsRoutes(app: FastifyInstance): Promise<void> {
  const doc = lazyDocument(app);
  let html: string | undefined;
  app.get('/docs', async (_req, reply) => reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
    .header('cache-control', 'no-cache')
    .send(html ??= renderDocsPage(doc())));
}
