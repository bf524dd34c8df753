import { createHash } from 'node:crypto';
import { normalizeEmail } from '../commands/accountStreams.js';
import type { AppDeps } from './deps.js';
import { ApiError } from './errors.js';

/**
 * Per-account login throttling, on top of the per-address limit (20 attempts an
 * hour): guessing one account's password from many addresses is slowed down too.
 *
 * - An account (an e-mail address, existing or not: the same answers either way)
 *   has 5 free attempts. After the 5th failed one, each further attempt waits:
 *   30 s, then 1, 2, 4, 8 min… doubling up to 15 min (a 429 with `Retry-After` in
 *   between, without looking at the password). A success ends the wait and clears
 *   the count; otherwise the count is kept for a day from its first attempt
 *   (at most about 100 guesses a day for one account, whatever the addresses).
 * - Not a lockout an attacker can hold: the wait never exceeds 15 min, and
 *   addresses the account has logged in from (in the last 30 days) have their own
 *   count and wait, so a guesser elsewhere cannot keep the owner out.
 * - Attempts go through one at a time once throttled: the gate is an atomic
 *   counter, so a burst of parallel guesses gets one through, not all.
 *
 * Not scaled by SECABLY_RATE_LIMIT_MULTIPLIER (it guards passwords, not capacity).
 */
export const FREE_ATTEMPTS = 5;
const ATTEMPT_WINDOW_MS = 86_400_000;
export const FIRST_WAIT_MS = 30_000;
export const LONGEST_WAIT_MS = 15 * 60_000;
const KNOWN_ADDRESS_MS = 30 * 86_400_000;
/** How long one admitted attempt holds the gate (a password check takes well under this). */
const GATE_MS = 10_000;

export interface LoginAttempt {
  succeeded(): Promise<void>;
  failed(): Promise<void>;
}

/** The wait after the n-th failed attempt (n ≥ FREE_ATTEMPTS). */
export function waitAfter(failures: number): number {
  return Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** Math.max(0, failures - FREE_ATTEMPTS));
}

export function loginThrottle(deps: Pick<AppDeps, 'counters' | 'clock'>) {
  const { counters, clock } = deps;

  return {
    /** Before checking a password: a 429 while this account (as seen from `ip`) must wait. */
    async attempt(email: string, ip: string): Promise<LoginAttempt> {
      const account = createHash('sha256').update(normalizeEmail(email)).digest('hex').slice(0, 32);
      const knownKey = `login_known:${account}:${ip}`;
      const now = clock.now().getTime();
      const known = (await counters.get(knownKey, now)) !== undefined;
      const scope = known ? `${account}:${ip}` : account;
      const attemptsKey = `login_attempts:${scope}`;
      const waitKey = `login_wait:${scope}`;

      const attempts = await counters.increment(attemptsKey, ATTEMPT_WINDOW_MS, now);
      if (attempts.count > FREE_ATTEMPTS) {
        // The wait window (opened by the last failure) or another attempt's gate is open: refuse.
        const gate = await counters.increment(waitKey, GATE_MS, now);
        if (gate.count > 1) {
          await counters.decrement(attemptsKey); // a refused attempt is not a guess
          const retryAfter = Math.max(1, Math.ceil((gate.resetAt - now) / 1000));
          throw new ApiError(
            429,
            `Too many failed logins for this account; try again in ${retryAfter} s.`,
            'login_throttled',
            { retry_after: retryAfter },
            undefined,
            {
              'Retry-After': String(retryAfter),
              'X-RateLimit-Limit': String(FREE_ATTEMPTS),
              'X-RateLimit-Remaining': '0',
              'X-RateLimit-Reset': String(Math.ceil(gate.resetAt / 1000)),
            },
          );
        }
      }
      return {
        async succeeded() {
          await Promise.all([counters.reset(attemptsKey), counters.reset(waitKey)]);
          await counters.increment(knownKey, KNOWN_ADDRESS_MS, clock.now().getTime());
        },
        async failed() {
          if (attempts.count < FREE_ATTEMPTS) return;
          await counters.reset(waitKey);
          await counters.increment(waitKey, waitAfter(attempts.count), clock.now().getTime());
        },
      };
    },
  };
}
