/**
 * The jq subset of nuclei's `json` extractor: paths made of `.name`, `.["name"]`,
 * `.[N]`, `.[]` (every element or value), an optional `?` after a step, and `|`
 * between paths (the output of one feeds the next). Anything else (filters,
 * functions, arithmetic, `select`, …) is refused at load.
 */
export class JsonPathError extends Error {
  override name = 'JsonPathError';
}

type Step =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'each' };

export interface JsonPath {
  readonly source: string;
  /** Every value the path yields for `document`, as nuclei prints them (scalars as text, the rest as JSON). */
  run(document: unknown, limit: number): string[];
}

const HINT = 'the json extractor supports jq paths such as .version, .a.b[0], .items[].name and .["key-name"]';

function parseSegment(source: string): Step[] {
  const text = source.trim();
  if (text === '.') return [];
  if (!text.startsWith('.')) throw new JsonPathError(`unsupported jq expression ${JSON.stringify(source)}: ${HINT}`);
  const steps: Step[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    let match: RegExpExecArray | null;
    if ((match = /^\.([A-Za-z_][A-Za-z0-9_]*)\??/.exec(rest))) {
      steps.push({ kind: 'key', key: match[1]! });
    } else if ((match = /^\.?\[\s*"((?:[^"\\]|\\.)*)"\s*\]\??/.exec(rest))) {
      steps.push({ kind: 'key', key: JSON.parse(`"${match[1]!}"`) as string });
    } else if ((match = /^\.?\[\s*(-?\d{1,6})\s*\]\??/.exec(rest))) {
      steps.push({ kind: 'index', index: Number(match[1]) });
    } else if ((match = /^\.?\[\s*\]\??/.exec(rest))) {
      steps.push({ kind: 'each' });
    } else {
      throw new JsonPathError(
        `unsupported jq expression ${JSON.stringify(source)} at ${JSON.stringify(rest)}: ${HINT}`,
      );
    }
    i += match[0].length;
  }
  return steps;
}

function apply(values: unknown[], step: Step, limit: number): unknown[] {
  const out: unknown[] = [];
  for (const value of values) {
    if (out.length >= limit) break;
    if (step.kind === 'key') {
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, step.key)) {
        out.push((value as Record<string, unknown>)[step.key]);
      }
    } else if (step.kind === 'index') {
      if (Array.isArray(value)) {
        const item = value[step.index < 0 ? value.length + step.index : step.index];
        if (item !== undefined) out.push(item);
      }
    } else if (Array.isArray(value)) {
      out.push(...value.slice(0, limit - out.length));
    } else if (value !== null && typeof value === 'object') {
      out.push(...Object.values(value).slice(0, limit - out.length));
    }
  }
  return out;
}

function display(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? 'null';
}

export function compileJsonPath(source: string): JsonPath {
  if (source.length > 500) throw new JsonPathError('jq expression longer than 500 characters');
  const steps = source.split('|').flatMap(parseSegment);
  return {
    source,
    run(document, limit) {
      let values: unknown[] = [document];
      for (const step of steps) values = apply(values, step, limit);
      return values.slice(0, limit).map((value) => display(value).slice(0, 1000));
    },
  };
}
