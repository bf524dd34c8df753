/**
 * Comparing pages for the boolean-based SQL injection and the soft-404 checks: a body
 * is cut into pieces (lines and tags), the strings the scanner sent are removed (as
 * sent, URL-encoded and HTML-escaped), and pieces that change between two fetches of
 * the same page (times, tokens, ads) are ignored.
 */

function escapes(value: string): string[] {
  if (!value) return [];
  const html = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const out = new Set([
    value,
    html,
    html.replace(/'/g, '&#39;'),
    html.replace(/'/g, '&#x27;'),
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%20/g, '+'),
  ]);
  return [...out].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/**
 * Values that change on every fetch whatever the input: long tokens (16+ characters of
 * a token alphabet with a digit: CSRF tokens, session ids, hashes) and timestamps (9+
 * digits). Short numbers stay: "3 results" against "0 results" is a real difference.
 */
const VOLATILE = /(?=[A-Za-z0-9+/_=-]*\d)[A-Za-z0-9+/_=-]{16,}|\d{9,}/g;

/** The body's pieces with every form of `sent` removed and volatile values masked. */
export function piecesOf(body: string, sent: readonly string[] = []): string[] {
  let text = body;
  for (const value of sent) for (const form of escapes(value)) text = text.split(form).join('');
  return text
    .split(/\n|(?<=>)/)
    .map((piece) => piece.trim().replace(VOLATILE, '~'))
    .filter(Boolean);
}

export interface PageBaseline {
  readonly status: number;
  /** Pieces that differed between two fetches of the page. */
  readonly dynamic: ReadonlySet<string>;
  readonly signature: string;
}

function multiset(pieces: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of pieces) counts.set(p, (counts.get(p) ?? 0) + 1);
  return counts;
}

/** A baseline from two fetches of the same request. */
export function baselineOf(
  first: { status: number; body: string },
  second: { status: number; body: string },
  sent: readonly string[] = [],
): PageBaseline {
  const a = multiset(piecesOf(first.body, sent));
  const b = multiset(piecesOf(second.body, sent));
  const dynamic = new Set<string>();
  for (const [piece, count] of a) if (b.get(piece) !== count) dynamic.add(piece);
  for (const [piece, count] of b) if (a.get(piece) !== count) dynamic.add(piece);
  const baseline = { status: first.status, dynamic, signature: '' };
  return { ...baseline, signature: signatureOf(first.body, baseline, sent) };
}

export function signatureOf(
  body: string,
  baseline: Pick<PageBaseline, 'dynamic'>,
  sent: readonly string[] = [],
): string {
  return piecesOf(body, sent)
    .filter((piece) => !baseline.dynamic.has(piece))
    .join('\n');
}

/** Whether a response looks like the baseline page (same status, same stable pieces). */
export function sameAsBaseline(
  response: { status: number; body: string },
  baseline: PageBaseline,
  sent: readonly string[] = [],
): boolean {
  return response.status === baseline.status && signatureOf(response.body, baseline, sent) === baseline.signature;
}

/** Whether two responses look alike, ignoring the baseline's dynamic pieces and what was sent. */
export function sameResponses(
  a: { status: number; body: string },
  b: { status: number; body: string },
  baseline: Pick<PageBaseline, 'dynamic'>,
  sentA: readonly string[] = [],
  sentB: readonly string[] = [],
): boolean {
  return a.status === b.status && signatureOf(a.body, baseline, sentA) === signatureOf(b.body, baseline, sentB);
}
