/**
 * The OpenAPI 3.1 document of the REST API, hand-written as a typed object next to the
 * routes it describes (contract: docs/rest-api.md). test/rest-openapi.test.ts checks that it
 * lists exactly the routes the app registers and that real answers match its schemas.
 * OpenAPI 3.1 schemas are JSON Schema 2020-12 (OAS 3.1 §4.8.24), so nullables are type lists.
 */
import { ERROR_TABLE } from '../../core/errors.js';
import { TLP_LEVELS } from '../../core/policy.js';
import { ROLES } from '../../store/index.js';

export type JsonSchema = { [k: string]: unknown };

export interface OpenApiParameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  description: string;
  schema: JsonSchema;
  explode?: boolean;
  style?: 'form';
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security?: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; description?: string; content: Record<string, { schema: JsonSchema }> };
  /** Set on operations described only by what the route declares (see openapi-build.ts). */
  'x-generated'?: boolean;
  /** The action of the permission table this operation needs (docs/security.md "Permissions"), or `public`. */
  'x-permission'?: string;
  responses: Record<string, { description: string; headers?: Record<string, { description: string; schema: JsonSchema }>; content?: Record<string, { schema: JsonSchema }> }>;
}

export const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const str: JsonSchema = { type: 'string' };
const nullableStr: JsonSchema = { type: ['string', 'null'] };
const identityId: JsonSchema = { type: 'string', pattern: '^identity--[0-9a-f-]{36}$' };
const obj = (properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema => ({
  type: 'object', properties, required: Object.keys(properties), additionalProperties: false, ...extra,
});
const page = (item: string): JsonSchema => ({
  type: 'object', required: ['items'], additionalProperties: false,
  properties: { items: { type: 'array', items: ref(item) }, next: { type: 'string', description: 'Opaque cursor of the next page; absent on the last page.' } },
});
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const STIX_MEDIA = 'application/stix+json;version=2.1';

const ERRORS: Record<string, string> = {
  400: 'Bad parameter or body (codes BAD_REQUEST, INVALID_FILTER, INVALID_CURSOR, MALFORMED_JSON).',
  401: 'Missing, unknown, expired or revoked credentials (UNAUTHENTICATED).',
  403: 'The caller\'s roles or collection rights do not allow this (FORBIDDEN).',
  404: 'Not found, or not visible to the caller (NOT_FOUND).',
  413: 'The body exceeds max_content_length (PAYLOAD_TOO_LARGE).',
  415: 'Unsupported Content-Type (UNSUPPORTED_MEDIA_TYPE).',
  422: 'The body is not a STIX bundle (INVALID_STIX) or the request cannot be served (UNPROCESSABLE).',
  429: 'Too many failed authentications from this source (RATE_LIMITED); see Retry-After.',
};
export function errors(...codes: number[]): OpenApiOperation['responses'] {
  const out: OpenApiOperation['responses'] = {};
  for (const c of codes) {
    out[String(c)] = {
      description: ERRORS[c]!, content: json(ref('Error')),
      ...(c === 429 ? { headers: { 'Retry-After': { description: 'Seconds until the source may try again.', schema: { type: 'integer' } } } } : {}),
    };
  }
  return out;
}

const q = (name: string, description: string, schema: JsonSchema = str, required = false): OpenApiParameter => ({ name, in: 'query', description, schema, ...(required ? { required } : {}) });
const FILTERS: OpenApiParameter[] = [
  { ...q('type', 'STIX types, comma-separated and/or repeated (e.g. `indicator,malware`).', { type: 'array', items: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$' } }), style: 'form', explode: true },
  q('q', 'Case-insensitive text in name, description, pattern, aliases, labels, external ids (max 200 characters).', { type: 'string', maxLength: 200 }),
  { ...q('label', 'A label the object must carry; repeat for several (all must match).', { type: 'array', items: { type: 'string', maxLength: 250 } }), style: 'form', explode: true },
  { ...q('tlp', 'TLP levels, comma-separated and/or repeated; `none` selects unmarked objects. `amber strict` is read as `amber+strict`.', { type: 'array', items: { enum: [...TLP_LEVELS, 'none'] } }), style: 'form', explode: true },
  { ...q('creator', 'Creating organisations: identity ids or short names, comma-separated.', { type: 'array', items: str }), style: 'form', explode: true },
  q('collection', 'Restrict to one collection (id or alias) the caller may read; unknown or unreadable → 404.'),
];
const LIMIT = q('limit', 'Page size (default 50; capped at the server maximum page size).', { type: 'integer', minimum: 1 });
const CURSOR = q('cursor', 'The `next` value of the previous page. Bound to the same filters and organisation; anything else → 400 INVALID_CURSOR.');

const schemas: Record<string, JsonSchema> = {
  Error: obj({
    error: { type: 'object', required: ['code', 'message'], properties: { code: { enum: Object.keys(ERROR_TABLE) }, message: str, details: { type: 'object' } } },
  }),
  Tlp: { enum: [...TLP_LEVELS], description: 'TLP 2.0 level (FIRST).' },
  Role: { enum: [...ROLES] },
  User: obj({ id: str, username: str, displayName: str, orgId: identityId, roles: { type: 'array', items: ref('Role') } }),
  Org: obj({ id: identityId, name: str, shortName: str, country: nullableStr, kind: { enum: ['member', 'alliance-body'] }, node: { ...nullableStr, description: 'The peer node it lives on or is reached through (docs/federation.md); null: this node\'s.' } }),
  OrgSummary: obj({
    id: identityId, name: str, shortName: str, country: nullableStr, kind: { enum: ['member', 'alliance-body'] }, node: nullableStr,
    shared: obj({
      total: { type: 'integer', minimum: 0 },
      byTlp: obj(Object.fromEntries([...TLP_LEVELS, 'none'].map((t) => [t, { type: 'integer', minimum: 0 }]))),
    }, { description: 'Objects this organisation created that the caller may see (latest versions, readable collections).' }),
  }),
  Group: obj({ id: identityId, name: str, description: str, members: { type: 'array', items: identityId } }),
  Collection: obj({ id: str, apiRoot: str, title: str, description: str, alias: nullableStr, canRead: { type: 'boolean' }, canWrite: { type: 'boolean' } }),
  IntelSummary: obj({
    id: str, type: str, name: nullableStr, tlp: { anyOf: [ref('Tlp'), { type: 'null' }] }, created: nullableStr, modified: nullableStr,
    creatorOrg: nullableStr, creatorName: nullableStr, labels: { type: 'array', items: str }, revoked: { type: 'boolean' },
    collectionId: str, recipients: { type: 'array', items: identityId },
  }),
  StixObject: { type: 'object', required: ['type', 'id'], properties: { type: str, id: str }, description: 'A STIX 2.1 object exactly as stored.' },
  RelatedRef: obj({ id: str, type: str, name: nullableStr }),
  Relationship: obj({
    id: str, relationship_type: str, source_ref: str, target_ref: str,
    source: { anyOf: [ref('RelatedRef'), { type: 'null' }], description: 'null when the caller may not see that end.' },
    target: { anyOf: [ref('RelatedRef'), { type: 'null' }], description: 'null when the caller may not see that end.' },
  }),
  IntelVersion: obj({ version: str, dateAdded: str, object: ref('StixObject') }),
  IntelDetail: obj({
    object: ref('StixObject'), summary: ref('IntelSummary'),
    versions: { type: 'array', items: ref('IntelVersion'), description: 'Visible versions, oldest first: the newest 100 at most (the latest always among them).' },
    versionsTruncated: { type: 'boolean', description: 'True when the object has more visible versions than listed; the TAXII versions endpoint lists them all.' },
    relationships: { type: 'array', items: ref('Relationship') },
  }),
  StixBundle: {
    type: 'object', required: ['type'], description: 'STIX 2.1 bundle (§8).',
    properties: { type: { const: 'bundle' }, id: { type: 'string', pattern: '^bundle--' }, objects: { type: 'array', items: { type: 'object' } } },
  },
  ImportResult: obj({
    total: { type: 'integer' }, added: { type: 'integer' }, duplicates: { type: 'integer' }, rejected: { type: 'integer' },
    errors: { type: 'array', items: obj({ index: { type: 'integer' }, id: nullableStr, message: str }) },
  }),
  AuditEntry: obj({
    id: { type: 'integer' }, at: str, userId: nullableStr, username: { ...nullableStr, description: 'The user\'s name, for a user of the caller\'s organisation.' }, orgId: nullableStr, tokenId: nullableStr, source: nullableStr,
    action: str, target: nullableStr, detail: { type: ['object', 'null'] },
  }),
  LoginRequest: obj({ username: { type: 'string', maxLength: 128 }, password: { type: 'string', maxLength: 1024 } }),
  LoginAnswer: obj({ token: str, expiresAt: str, user: ref('User') }),
  PasswordChange: obj({ currentPassword: { type: 'string', maxLength: 1024 }, newPassword: { type: 'string', minLength: 12, maxLength: 1024, description: '12 to 1024 characters, not the username.' } }),
  MeAnswer: obj({
    user: { anyOf: [ref('User'), { type: 'null' }] }, organisation: ref('Org'),
    permissions: { type: 'array', items: { type: 'string' }, description: 'The actions of the permission table the caller may take (docs/security.md "Permissions").' },
  }),
  OrgSummaryPage: page('OrgSummary'),
  GroupPage: page('Group'),
  CollectionPage: page('Collection'),
  IntelSummaryPage: page('IntelSummary'),
  AuditPage: page('AuditEntry'),
};

const PUBLIC: Record<string, string[]>[] = [];
const intelId: OpenApiParameter = { name: 'id', in: 'path', required: true, description: 'STIX identifier (type--uuid).', schema: { type: 'string' } };

export const OPENAPI: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Shieldwall REST API', version: '1.0.0', license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    description: 'The REST API of a Shieldwall node for the web shell and scripts. Every read applies the TLP 2.0 release policy for the caller\'s organisation. Errors are `{"error": {"code", "message"}}`. Machine-to-machine exchange of STIX uses TAXII 2.1 at /taxii2/.',
  },
  servers: [{ url: '/', description: 'This node' }],
  tags: [
    { name: 'auth', description: 'Sign-in and session' },
    { name: 'directory', description: 'Organisations, sharing groups, collections' },
    { name: 'intel', description: 'Search, read, import and export STIX intelligence' },
    { name: 'admin', description: 'Organisation administration' },
    { name: 'meta', description: 'This document' },
  ],
  security: [{ bearer: [] }, { basic: [] }],
  paths: {
    '/api/v1/auth/login': { post: {
      operationId: 'login', summary: 'Sign in with username and password', tags: ['auth'], security: PUBLIC,
      description: 'Answers a session token valid 12 hours. Failed attempts are counted per source address; past the limit every attempt is 429 until the window passes.',
      requestBody: { required: true, content: json(ref('LoginRequest')) },
      responses: { 200: { description: 'Signed in.', content: json(ref('LoginAnswer')) }, ...errors(400, 401, 429) },
    } },
    '/api/v1/auth/logout': { post: {
      operationId: 'logout', summary: 'Revoke the token of this request', tags: ['auth'],
      responses: { 200: { description: 'Revoked.', content: json(obj({ ok: { const: true } })) }, ...errors(401) },
    } },
    '/api/v1/me': { get: {
      operationId: 'me', summary: 'The caller and its organisation', tags: ['auth'],
      responses: { 200: { description: 'The caller.', content: json(ref('MeAnswer')) }, ...errors(401) },
    } },
    '/api/v1/me/password': { post: {
      operationId: 'changePassword', summary: 'Change the caller\'s own password', tags: ['auth'],
      description: 'The current password is checked as a sign-in is (failures count against the limiter and are audited); a wrong one is 403, the request\'s credential staying good. The user\'s other web sessions are signed out, this one stays. Audited as `user.password`.',
      requestBody: { required: true, content: json(ref('PasswordChange')) },
      responses: { 200: { description: 'Changed.', content: json(obj({ ok: { const: true }, sessionsRevoked: { type: 'integer', description: 'Other web sessions signed out.' } })) }, ...errors(400, 401, 403, 429) },
    } },
    '/api/v1/organisations': { get: {
      operationId: 'listOrganisations', summary: 'Organisations with what each shares with the caller', tags: ['directory'],
      description: 'Needs a user role. `shared` counts the latest versions the caller may read, per TLP.',
      responses: { 200: { description: 'All organisations, by name.', content: json(ref('OrgSummaryPage')) }, ...errors(400, 401, 403) },
    } },
    '/api/v1/sharing-groups': { get: {
      operationId: 'listSharingGroups', summary: 'Sharing groups the caller\'s organisation belongs to or created', tags: ['directory'],
      responses: { 200: { description: 'Groups, by name.', content: json(ref('GroupPage')) }, ...errors(400, 401) },
    } },
    '/api/v1/collections': { get: {
      operationId: 'listCollections', summary: 'Collections the caller may read or write', tags: ['directory'],
      responses: { 200: { description: 'Collections of every API root.', content: json(ref('CollectionPage')) }, ...errors(400, 401) },
    } },
    '/api/v1/intel': { get: {
      operationId: 'searchIntel', summary: 'Search the latest visible versions', tags: ['intel'],
      description: 'Needs a user role. Searches every readable collection (or the one named), oldest first by date added. Unknown parameters are a 400.',
      parameters: [...FILTERS, LIMIT, CURSOR],
      responses: { 200: { description: 'One page.', content: json(ref('IntelSummaryPage')) }, ...errors(400, 401, 403, 404) },
    } },
    '/api/v1/intel/{id}': { get: {
      operationId: 'getIntel', summary: 'One object: latest visible version, visible versions, relationships', tags: ['intel'],
      parameters: [intelId],
      responses: { 200: { description: 'The object.', content: json(ref('IntelDetail')) }, ...errors(400, 401, 403, 404) },
    } },
    '/api/v1/intel/import': { post: {
      operationId: 'importBundle', summary: 'Import a STIX bundle into a collection', tags: ['intel'],
      description: 'Needs the analyst or admin role and write access to the collection. Objects are validated one by one; valid ones are stored in one transaction, invalid ones reported in `errors`. Objects are stored exactly as sent (docs/stix-versioning.md): the caller\'s organisation and the `tlp` are recorded beside them as policy facts; `tlp` becomes a marking only on objects whose `created_by_ref` is the caller\'s organisation. An object whose `created_by_ref` names another organisation is refused, unless `preserve_provenance` (admin) and it lies outside the alliance. Audited.',
      parameters: [
        q('collection', 'Target collection id or alias (write access needed).', str, true),
        q('tlp', 'TLP applied to objects that carry no TLP marking (`amber strict` is read as `amber+strict`).', ref('Tlp')),
        { ...q('recipients', 'Explicit recipients for AMBER/AMBER+STRICT/RED: organisation or sharing-group identity ids, comma-separated (max 100).', { type: 'array', items: identityId }), style: 'form', explode: false },
        q('preserve_provenance', 'Admin only: accept objects whose `created_by_ref` names an identity outside the alliance (e.g. MITRE), kept as published.', { type: 'boolean' }),
      ],
      requestBody: { required: true, description: 'Limited to max_content_length bytes.', content: { 'application/json': { schema: ref('StixBundle') }, [STIX_MEDIA]: { schema: ref('StixBundle') } } },
      responses: { 200: { description: 'Per-bundle counts and the rejected items.', content: json(ref('ImportResult')) }, ...errors(400, 401, 403, 404, 413, 415, 422) },
    } },
    '/api/v1/intel/export': { get: {
      operationId: 'exportBundle', summary: 'Export a collection as a STIX bundle', tags: ['intel'],
      description: 'Latest visible versions that may leave in bulk: RED never does. Takes the search filters; `collection` is required. Streamed; audited.',
      parameters: FILTERS.map((p) => (p.name === 'collection' ? { ...p, required: true } : p)),
      responses: { 200: { description: 'The bundle (Content-Disposition: attachment).', content: { [STIX_MEDIA]: { schema: ref('StixBundle') } } }, ...errors(400, 401, 403, 404) },
    } },
    '/api/v1/audit': { get: {
      operationId: 'listAudit', summary: 'Audit log of the caller\'s organisation, newest first', tags: ['admin'],
      description: 'Needs the admin role. A page reads at most SHIELDWALL_SEARCH_SCAN_ROWS entries of the log: a rare action gets short (even empty) pages with `next`; follow `next` until it is absent.',
      parameters: [
        LIMIT, CURSOR,
        q('action', 'An action (`token.revoke`) or its start ending in `.` (`token.`).'),
        q('user', 'A user of the caller\'s organisation, by username or id (anyone else matches nothing).'),
        q('since', 'From this time: RFC 3339, or a date (its midnight UTC).'),
        q('until', 'Up to this time (inclusive): RFC 3339, or a date (its midnight UTC).'),
      ],
      responses: { 200: { description: 'One page.', content: json(ref('AuditPage')) }, ...errors(400, 401, 403) },
    } },
    '/api/v1/openapi.json': { get: {
      operationId: 'openapi', summary: 'This document', tags: ['meta'], security: PUBLIC,
      responses: { 200: { description: 'OpenAPI 3.1 document.', content: json({ type: 'object' }) } },
    } },
    '/api/docs': { get: {
      operationId: 'docs', summary: 'This document as a web page', tags: ['meta'], security: PUBLIC,
      responses: { 200: { description: 'HTML page.', content: { 'text/html': { schema: str } } } },
    } },
  },
  components: {
    schemas,
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'An API token or the session token from /api/v1/auth/login.' },
      basic: { type: 'http', scheme: 'basic', description: 'Username and password or API token (as for TAXII).' },
    },
  },
};
