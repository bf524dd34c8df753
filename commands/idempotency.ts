import { createHash } from 'node:crypto';
import { idempotencyKeys } from './aggregates.js';
import type { CommandDeps } from './deps.js';

/** What an idempotent endpoint answers (status and body), remembered per key. */
export interface IdempotentAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * JSON with object keys sorted, so the same request always hashes the same.
 * Iterative (an explicit stack, no recursion): it runs on input that is not
 * validated yet, and a body nested thousands of levels deep must not overflow
 * the call stack.
 */
export function canonicalJson(root: unknown): string {
  const out: string[] = [];
  /** Values still to write (wrapped) and literal text (strings), last first. */
  const stack: Array<{ readonly value: unknown } | string> = [{ value: root }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    const { value } = item;
    if (Array.isArray(value)) {
      out.push('[');
      stack.push(']');
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i] });
        if (i > 0) stack.push(',');
      }
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      out.push('{');
      stack.push('}');
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, entry] = entries[i]!;
        stack.push({ value: entry }, `${JSON.stringify(key)}:`);
        if (i > 0) stack.push(',');
      }
    } else {
      out.push(JSON.stringify(value) ?? 'null');
    }
  }
  return out.join('');
}

/** A stable hash of what was asked, to tell a retry from another request reusing the key. */
export function requestHash(parts: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

/**
 * Runs `work` once per (user, Idempotency-Key): a retry with the same key and the
 * same request gets the first answer back, without doing the work again; the same
 * key with another request is a 409. The claim carries the resource (scan) id, so
 * even a request that crashed half-way is finished, not repeated, by its retry.
 */
export async function withIdempotency(
  deps: CommandDeps,
  userId: string,
  key: string | undefined,
  hash: string,
  work: (resourceId: string) => Promise<IdempotentAnswer>,
  /** How an error becomes a 4xx answer to remember (undefined: not an answer, e.g. a 5xx). */
  refusalOf: (error: unknown) => IdempotentAnswer | undefined,
): Promise<IdempotentAnswer> {
  if (key === undefined) return work(deps.ids.uuid());
  const keyId = `${userId}-${createHash('sha256').update(key).digest('hex')}`;
  const now = () => deps.clock.now().toISOString();
  const claim = await idempotencyKeys.handle(deps, keyId, {
    type: 'ClaimKey',
    userId,
    requestHash: hash,
    resourceId: deps.ids.uuid(),
    now: now(),
  });
  if (claim.state.status === 'answered' && claim.state.response) {
    return { status: claim.state.response.status, body: { ...claim.state.response.body } };
  }
  if (claim.state.status === 'free') throw new Error('idempotency claim not recorded');
  let answer: IdempotentAnswer;
  try {
    answer = await work(claim.state.resourceId);
  } catch (error) {
    // A refusal (4xx) is an answer too: the same retry gets the same refusal.
    const refusal = refusalOf(error);
    if (!refusal) throw error;
    answer = refusal;
  }
  await idempotencyKeys.handle(deps, keyId, {
    type: 'RecordResponse',
    userId,
    status: answer.status,
    body: answer.body,
    now: now(),
  });
  return answer;
}
