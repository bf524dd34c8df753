import { lookup } from 'node:dns/promises';
import { InfrastructureError, type Resolver } from './ports.js';

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address, bounded in time. */
export function dnsResolver(options: { timeoutMs?: number } = {}): Resolver {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    async resolve(hostname) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new InfrastructureError(`DNS lookup of ${hostname} timed out`)), timeoutMs);
      });
      try {
        const results = await Promise.race([lookup(hostname, { all: true, verbatim: true }), timeout]);
        return [...new Set(results.map((r) => r.address))];
      } catch (error) {
        if (NOT_FOUND.has((error as NodeJS.ErrnoException).code ?? '')) return [];
        if (error instanceof InfrastructureError) throw error;
        throw new InfrastructureError(`DNS lookup of ${hostname} failed`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * A resolver with a fixed table, consulted before `fallback` (like /etc/hosts):
 * SECABLY_HOSTS, and tests (a hostname that "resolves" to loopback). The table is
 * read at each lookup, so changing it changes the answers.
 */
export function staticResolver(
  table: Record<string, string[]>,
  fallback?: Resolver,
): Resolver & { readonly table: Record<string, string[]> } {
  return {
    table,
    async resolve(hostname) {
      const known = table[hostname.toLowerCase()];
      if (known) return known;
      return fallback ? fallback.resolve(hostname) : [];
    },
  };
}
