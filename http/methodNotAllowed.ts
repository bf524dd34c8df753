/**
 * Which methods a path answers, from the app's own route table: a known path
 * asked with another method is a 405 with `Allow`, not a 404.
 */
export function allowedMethods(
  routes: readonly { readonly method: string; readonly path: string }[],
): (path: string) => string[] {
  let patterns: { method: string; pattern: RegExp }[] | undefined;
  return (path) => {
    // Built on first use: every route is registered by then.
    patterns ??= routes
      .filter((route) => route.method !== 'ALL' && !route.path.includes('*'))
      .map((route) => ({ method: route.method.toUpperCase(), pattern: pathPattern(route.path) }));
    const methods = new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method));
    if (methods.has('GET')) methods.add('HEAD'); // HEAD is answered by the GET handler
    return [...methods].sort();
  };
}

/** A Hono route path (`/api/v1/scans/:id`) as a regular expression; a trailing slash is optional (strict: false). */
function pathPattern(path: string): RegExp {
  const segments = path
    .replace(/\/+$/, '')
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${segments.join('/')}/?$`);
}
