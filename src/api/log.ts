/**
 * What the HTTP access log may say about a request: never a credential. Query parameters that
 * can carry one (a token, ticket, password, key or secret, and any value shaped like a
 * Shieldwall token) are replaced by `[redacted]`; headers are not logged, and the
 * Authorization and Cookie headers are redacted should a serializer ever add them.
 */
import type { FastifyRequest } from 'fastify';

const SECRET_PARAM = /token|ticket|pass|secret|key|auth|sig|code/i;
const TOKEN_SHAPE = /sw_[0-9a-f]{12}_[A-Za-z0-9_-]+/g;

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const pathPart = (q < 0 ? url : url.slice(0, q)).replace(TOKEN_SHAPE, '[redacted]');
  if (q < 0) return pathPart;
  const params = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0) return pair.replace(TOKEN_SHAPE, '[redacted]');
    let value = pair.slice(eq + 1);
    let decodedName = name;
    try {
      decodedName = decodeURIComponent(name);
      value = decodeURIComponent(value);
    } catch {
      return `${name}=[redacted]`;
    }
    return SECRET_PARAM.test(decodedName) || /sw_[0-9a-f]{12}_/.test(value) ? `${name}=[redacted]` : pair.replace(TOKEN_SHAPE, '[redacted]');
  });
  return `${pathPart}?${params.join('&')}`;
}

export const logSerializers = {
  req(req: FastifyRequest) {
    return { method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
  },
};

export const logRedact = ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie'];
