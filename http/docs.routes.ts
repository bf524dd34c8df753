import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { Hono, type Context } from 'hono';
import type { AppDeps, AppEnv } from './deps.js';
import { notFound } from './errors.js';
import { openApiDocument } from './openapi/document.js';

/**
 * Public, before the auth middleware and the rate limits: the OpenAPI document at
 * `<basePath>/openapi.json` and the interactive docs (Swagger UI, served from the
 * `swagger-ui-dist` package: no CDN) at `/docs`.
 */

const DOCS = '/docs';
const ASSETS = `${DOCS}/assets`;

/** The page allows only itself: scripts, styles, the document and the API calls of "Try it out". */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  readonly body: Buffer;
  readonly gzipped?: Buffer;
  readonly type: string;
  readonly etag: string;
}

const gzip = promisify(gzipCallback);

/** An asset with its gzip (compressed off the event loop, once) and its ETag. */
async function asset(body: Buffer | string, type: string): Promise<Asset> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const compressible = !type.startsWith('image/');
  return {
    body: bytes,
    ...(compressible ? { gzipped: await gzip(bytes, { level: 9 }) } : {}),
    type,
    etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`,
  };
}

/** Sends an asset: 304 when the client has it, gzip when it takes it. */
function send(c: Context<AppEnv>, item: Asset, cacheControl: string, extra: Record<string, string> = {}): Response {
  const headers: Record<string, string> = {
    'Cache-Control': cacheControl,
    ETag: item.etag,
    'X-Content-Type-Options': 'nosniff',
    ...(item.gzipped ? { Vary: 'Accept-Encoding' } : {}),
    ...extra,
  };
  const ifNoneMatch = c.req.header('if-none-match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === item.etag)) {
    return c.body(null, 304, headers);
  }
  const gzipped = item.gzipped && /\bgzip\b/i.test(c.req.header('accept-encoding') ?? '') ? item.gzipped : undefined;
  return c.body(new Uint8Array(gzipped ?? item.body), 200, {
    ...headers,
    'Content-Type': item.type,
    ...(gzipped ? { 'Content-Encoding': 'gzip' } : {}),
  });
}

/** The files of swagger-ui-dist the page loads (nothing else of the package is served). */
const SWAGGER_UI_FILES: Readonly<Record<string, string>> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

function indexPage(documentUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SecAbly API — interactive docs</title>
<link rel="icon" type="image/png" sizes="32x32" href="${ASSETS}/favicon-32x32.png">
<link rel="icon" type="image/png" sizes="16x16" href="${ASSETS}/favicon-16x16.png">
<link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
<link rel="stylesheet" href="${ASSETS}/docs.css">
</head>
<body>
<noscript>The interactive docs need JavaScript; the OpenAPI document is at <a href="${documentUrl}">${documentUrl}</a>.</noscript>
<div id="swagger-ui" data-document-url="${documentUrl}"></div>
<script src="${ASSETS}/swagger-ui-bundle.js"></script>
<script src="${ASSETS}/docs.js"></script>
</body>
</html>
`;
}

/** Our Swagger UI setup (an external script: the CSP allows no inline script). */
const INITIALIZER = `'use strict';
(function () {
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: root.getAttribute('data-document-url'),
    domNode: root,
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: true,
    displayRequestDuration: true,
    filter: true,
    // No validator badge: it would send the document to a public validator.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'BaseLayout',
  });
})();
`;

const STYLES = `body { margin: 0; background: #fafafa; }
.swagger-ui .information-container { padding-top: 8px; }
`;

export function docsRoutes(deps: Pick<AppDeps, 'scanners' | 'config'>, basePath: string) {
  const app = new Hono<AppEnv>();
  const documentUrl = `${basePath}/openapi.json`;

  // Built on first use (the document takes a few hundred ms of zod conversion), then kept.
  let document: Promise<Asset> | undefined;
  app.get(documentUrl, async (c) => {
    document ??= asset(
      JSON.stringify(
        openApiDocument({ scanners: deps.scanners, rateLimitMultiplier: deps.config.rateLimitMultiplier, basePath }),
      ),
      'application/json; charset=utf-8',
    );
    // Public and the same for everyone: any site (editors, code generators) may read it.
    return send(c, await document, 'public, max-age=300', { 'Access-Control-Allow-Origin': '*' });
  });

  let files: Promise<Map<string, Asset>> | undefined;
  async function loadFiles(): Promise<Map<string, Asset>> {
    const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    const loaded = await Promise.all([
      ...Object.entries(SWAGGER_UI_FILES).map(
        async ([name, type]) => [name, await asset(await readFile(join(dist, name)), type)] as const,
      ),
      (async () => ['docs.js', await asset(INITIALIZER, 'text/javascript; charset=utf-8')] as const)(),
      (async () => ['docs.css', await asset(STYLES, 'text/css; charset=utf-8')] as const)(),
      (async () => ['index.html', await asset(indexPage(documentUrl), 'text/html; charset=utf-8')] as const)(),
    ]);
    return new Map(loaded);
  }
  const file = async (name: string) => (await (files ??= loadFiles())).get(name);

  const pageHeaders = {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  };
  // The page is revalidated (it names the assets); the assets are cached for a day (their ETag changes with them).
  app.get(DOCS, async (c) => send(c, (await file('index.html'))!, 'no-cache', pageHeaders));
  app.get(`${ASSETS}/:file`, async (c) => {
    const name = c.req.param('file');
    const found = name === 'index.html' ? undefined : await file(name);
    if (!found) throw notFound();
    return send(c, found, 'public, max-age=86400');
  });
  return app;
}
