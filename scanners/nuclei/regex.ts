/**
 * Regular expressions of templates, run by RE2JS (a JavaScript port of RE2, the
 * engine behind Go's `regexp`): the same syntax nuclei templates are written in
 * (`(?i)`, `(?m)`, `(?s)`, `\A`, `\z`, `(?P<name>…)`; no lookarounds, no
 * backreferences) and matching in time linear in the input — a user's template
 * cannot stall a worker with a catastrophic pattern.
 */
import { RE2JS } from 're2js';

/** A pattern that does not compile (or is too large). */
export class RegexError extends Error {
  override name = 'RegexError';
}

export interface CompiledRegex {
  readonly source: string;
  /** Whether it matches anywhere in `text`. */
  test(text: string): boolean;
  /** The whole matches, at most `limit`. */
  matches(text: string, limit: number): string[];
  /** Group `group` of each match (0 = the whole match), at most `limit`. */
  groups(text: string, group: number, limit: number): string[];
  readonly groupCount: number;
}

export const MAX_PATTERN_LENGTH = 2000;
/** RE2's rough cost measure; a sane template stays far below. */
const MAX_PROGRAM_SIZE = 20_000;
/** Each match is cut to this many characters in results. */
const MAX_MATCH_LENGTH = 1000;

export function compileRegex(pattern: string): CompiledRegex {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new RegexError(`regex longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RegexError(`invalid regex ${JSON.stringify(pattern.slice(0, 200))}: ${reason} (Go/RE2 syntax)`);
  }
  if (compiled.programSize() > MAX_PROGRAM_SIZE) {
    throw new RegexError(`regex ${JSON.stringify(pattern.slice(0, 200))} is too complex`);
  }
  const groupCount = compiled.groupCount();
  return {
    source: pattern,
    groupCount,
    test: (text) => compiled.test(text),
    matches(text, limit) {
      const found: string[] = [];
      for (const match of compiled.matchAll(text)) {
        found.push(String(match[0] ?? '').slice(0, MAX_MATCH_LENGTH));
        if (found.length >= limit) break;
      }
      return found;
    },
    groups(text, group, limit) {
      if (group > groupCount) return [];
      const found: string[] = [];
      for (const match of compiled.matchAll(text)) {
        const value = match[group];
        if (typeof value === 'string') found.push(value.slice(0, MAX_MATCH_LENGTH));
        if (found.length >= limit) break;
      }
      return found;
    },
  };
}
