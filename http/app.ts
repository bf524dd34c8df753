import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { adminRoutes } from './admin.routes.js';
import { apiKeysRoutes } from './apiKeys.routes.js';
import { authRoutes } from './auth.routes.js';
import { identifyCaller, rejectBadCredentials } from './authenticate.js';
import { creditsRoutes } from './credits.routes.js';
import { exportsRoutes } from './exports.routes.js';
import { findingsRoutes } from './findings.routes.js';
import type { AppDeps, AppEnv } from './deps.js';
import { docsRoutes } from './docs.routes.js';
import { ApiError, errorBody, sendError, toApiError } from './errors.js';
import { nucleiTemplatesRoutes } from './nucleiTemplates.routes.js';
import { allowedMethods } from './methodNotAllowed.js';
import { plansRoutes } from './plans.routes.js';
import { profileRoutes } from './profile.routes.js';
import { rateLimits } from './rateLimits.js';
import { scansRoutes } from './scans.routes.js';
import { targetsRoutes } from './targets.routes.js';

export const BASE_PATH = '/api/v1';

function clientIp(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // no socket: an in-process request (tests)
  }
}

/** The whole HTTP API. Tests call `createApp(deps).request(...)`; main.ts serves it. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ strict: false });
  const limits = rateLimits(deps);
  const { logger } = deps;

  app.use('*', async (c, next) => {
    const started = performance.now();
    const requestId = c.req.header('x-request-id')?.slice(0, 100) || deps.ids.uuid();
    c.set('requestId', requestId);
    c.set('clientIp', clientIp(c, deps.config.trustProxy));
    await next();
    c.res.headers.set('X-Request-Id', requestId);
    // Every answer is what its Content-Type says: browsers must not guess.
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    if (logger.isLevelEnabled('info')) {
      logger.info(
        {
          reqId: requestId,
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
          user: c.get('auth')?.userId,
        },
        'request',
      );
    }
  });

  app.get('/healthz', (c) =>
    deps.ready && !deps.ready() ? c.json({ status: 'starting' }, 503) : c.json({ status: 'ok' }),
  );

  app.route('/', docsRoutes(deps, BASE_PATH)); // public: before the auth middleware and the rate limits

  const api = new Hono<AppEnv>({ strict: false });
  // Reading the body stream would make the Node adapter build a full Request for every
  // call: only requests that may carry a body go through the limit.
  const limitBody = bodyLimit({
    maxSize: 64 * 1024,
    onError: (c) => c.json(errorBody(new ApiError(413, 'Request body is too large.', 'payload_too_large')), 413),
  });
  api.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));
  api.route('/admin', adminRoutes(deps));
  // Every passing limiter prepares the X-RateLimit-* headers of the tightest limit so far.
  api.use('*', identifyCaller(deps), limits.general, rejectBadCredentials, limits.monthlyQuota);
  api.route('/auth', authRoutes(deps, limits));
  api.route('/', plansRoutes(deps.scanners));
  api.route('/', profileRoutes(deps));
  api.route('/', apiKeysRoutes(deps));
  api.route('/', creditsRoutes(deps));
  api.route('/', scansRoutes(deps, limits));
  api.route('/', targetsRoutes(deps));
  api.route('/', findingsRoutes(deps));
  api.route('/', nucleiTemplatesRoutes(deps));
  api.route('/', exportsRoutes(deps));
  app.route(BASE_PATH, api);

  const methodsOf = allowedMethods(app.routes);
  app.notFound((c) => {
    const allowed = methodsOf(c.req.path);
    if (allowed.length > 0) {
      c.header('Allow', allowed.join(', '));
      const error = new ApiError(405, `Method ${c.req.method} is not allowed here.`, 'method_not_allowed', {
        allowed,
      });
      return c.json(errorBody(error), 405);
    }
    return c.json(errorBody(new ApiError(404, 'Not found.', 'not_found')), 404);
  });
  app.onError((error, c) => {
    const apiError = toApiError(error);
    if (apiError) {
      if (apiError.status >= 500) logger.warn({ err: error, reqId: c.get('requestId') }, 'request failed');
      return sendError(c, apiError);
    }
    logger.error({ err: error, reqId: c.get('requestId') }, 'unhandled error');
    return c.json({ error: 'Internal server error.', code: 'internal_error', request_id: c.get('requestId') }, 500);
  });
  return app;
}
