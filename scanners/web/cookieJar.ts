import { parseSetCookie } from './passiveRules.js';

/**
 * The cookies the target sets during a scan, sent back on later requests as a browser
 * would (one origin, so domain and path scoping are ignored; bounded to 50 cookies of
 * 4 KiB). A cookie with an empty value or Max-Age ≤ 0 is removed.
 */
export function createCookieJar() {
  const cookies = new Map<string, string>();
  const header = (): string | undefined =>
    cookies.size === 0 ? undefined : [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  return {
    store(setCookies: readonly string[]): void {
      for (const header of setCookies) {
        const cookie = parseSetCookie(header);
        if (!cookie?.name) continue;
        const maxAge = cookie.attributes.get('max-age');
        if (cookie.value === '' || (maxAge !== undefined && Number(maxAge) <= 0)) {
          cookies.delete(cookie.name);
          continue;
        }
        if (cookie.value.length > 4096) continue;
        if (!cookies.has(cookie.name) && cookies.size >= 50) continue;
        cookies.set(cookie.name, cookie.value);
      }
    },
    /** The Cookie header value, or undefined when the jar is empty. */
    header,
    /** Headers for a request: the Cookie header when there is one. */
    headers(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
      const value = header();
      return value ? { ...extra, cookie: value } : { ...extra };
    },
    size: () => cookies.size,
  };
}

export type CookieJar = ReturnType<typeof createCookieJar>;
