import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUser, testRuntime, type TestRuntime } from '../support/testRuntime.js';

/**
 * Account enumeration by timing (issue 8, item 7): registering a taken address
 * answers 409 (a developer API says why a registration failed), but only after
 * the same work as a new registration, so the time does not tell which addresses
 * have an account. With the production scrypt cost (2^15) the hash is nearly all
 * of a registration's time; before, a taken address answered in ~11 ms against
 * ~150 ms. Compared on medians of interleaved runs (a ratio, not a duration).
 */
let rt: TestRuntime;
beforeAll(async () => {
  rt = await testRuntime({ SECABLY_SCRYPT_LOG2N: '15' });
});
afterAll(async () => {
  await rt?.cleanup();
});

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('registration timing', () => {
  it('a taken address and a new one take about as long (within 2×)', { timeout: 120_000 }, async () => {
    const taken = newUser();
    expect((await rt.call('POST', '/api/v1/auth/register/', { body: taken, ip: '10.9.0.1' })).status).toBe(201);
    const timed = async (body: Record<string, unknown>, expected: number, ip: string) => {
      const started = performance.now();
      const res = await rt.call('POST', '/api/v1/auth/register/', { body, ip });
      const ms = performance.now() - started;
      expect(res.status).toBe(expected);
      return ms;
    };
    const fresh: number[] = [];
    const existing: number[] = [];
    for (let i = 0; i < 5; i++) {
      fresh.push(await timed(newUser(), 201, `10.9.1.${i}`));
      existing.push(await timed({ ...taken, email: taken.email.toUpperCase() }, 409, `10.9.2.${i}`));
    }
    const ratio = Math.max(median(fresh), median(existing)) / Math.min(median(fresh), median(existing));
    console.info(
      `registration medians: new ${median(fresh).toFixed(1)} ms, taken ${median(existing).toFixed(1)} ms, ratio ${ratio.toFixed(2)}`,
    );
    expect(ratio).toBeLessThan(2);
  });
});
