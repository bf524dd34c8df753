import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../adapters/ports.js';
import { accounts } from '../../commands/aggregates.js';
import { requestScan } from '../../commands/requestScan.js';
import { ADMIN_TOKEN, registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';
import { waitFor } from '../support/waitFor.js';

/**
 * A request that dies between its two appends — `CreditsReserved` on the account,
 * then `ScanRequested` on the scan — leaves credits reserved for a scan that does
 * not exist. The credits policy finds such reservations from stored state (not
 * from its memory, which a restart empties) and refunds them after their grace
 * period. In both modes: the embedded service restarted on its data, or the
 * distributed dispatcher (where the policy runs) killed and started again.
 */
const GRACE_MS = 1_500;
const env = { SECABLY_ALLOWED_TARGETS: '127.0.0.0/8', SECABLY_RESERVATION_GRACE_MS: String(GRACE_MS) };
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
let dataDir: string | undefined;
let rt: TestRuntime;

beforeAll(async () => {
  const embedded = process.env.SECABLY_TEST_MODE !== 'distributed';
  dataDir = embedded ? mkdtempSync(join(tmpdir(), 'secably-orphans-')) : undefined;
  rt = await testRuntime(env, dataDir ? { dataDir } : {});
});
afterAll(async () => {
  await rt?.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The store, except that its `n`-th append (counting from 1) throws: the process "dies" there. */
function crashingOnAppend(store: EventStore, n: number): EventStore {
  let appends = 0;
  return {
    ...store,
    appendToStream(streamName, events, options) {
      appends += 1;
      if (appends === n) return Promise.reject(new Error(`injected crash before appending to ${streamName}`));
      return store.appendToStream(streamName, events, options);
    },
  };
}

/** The credits policy's process starts again: the embedded service, or the distributed dispatcher (killed). */
async function restartPolicy(): Promise<void> {
  if (rt.roles) {
    await rt.roles.stopRole('dispatcher', 'SIGKILL');
    await rt.roles.startRole('dispatcher');
    return;
  }
  await rt.stop();
  rt = await testRuntime(env, { dataDir: dataDir! });
}

describe('a crash between CreditsReserved and ScanRequested', () => {
  it(
    'leaves a reservation that is refunded after the grace period, across a restart',
    { timeout: 60_000 },
    async () => {
      const { access, userId } = await registerAndLogin(rt);
      const bought = await rt.call('POST', `/api/v1/admin/users/${userId}/credits/`, {
        headers: admin,
        body: { credits: 1, reason: 'test' },
      });
      expect(bought.status).toBe(200);
      const target = await rt.call('POST', '/api/v1/targets/', {
        token: access,
        body: { name: 'lo', target_value: '127.0.0.1' },
      });
      expect(target.status).toBe(201);

      // The request appends the reservation, then dies before the scan is written.
      const scanId = rt.deps.ids.uuid();
      const dying = { ...rt.deps, store: crashingOnAppend(rt.deps.store, 2) };
      await expect(
        requestScan(
          dying,
          userId,
          { targetId: target.body.id, scannerType: 'nmap', scanConfig: { scan_type: 'full', port_range: '1' } },
          scanId,
        ),
      ).rejects.toThrow(/injected crash before appending to scan-/);
      expect(await rt.deps.store.readStream(`scan-${scanId}`)).toEqual([]);
      const reserved = await rt.call('GET', '/api/v1/account/credits/', { token: access });
      expect(reserved.body.balance).toMatchObject({ available: 0, reserved: 1 });

      await restartPolicy();

      // Refunded once the grace period is over, by the restarted policy (watched in the store:
      // polling over HTTP would spend the free plan's monthly requests).
      await waitFor(
        async () => {
          const { state } = await accounts.state(rt.deps, userId);
          return state.status === 'open' && state.reservations[scanId]?.status === 'refunded';
        },
        30_000,
        100,
      );
      const ledger = await waitFor(
        async () => {
          const res = await rt.call('GET', '/api/v1/account/credits/', { token: access });
          return res.body.balance?.available === 1 ? res.body : false;
        },
        10_000,
        250,
      );
      expect(ledger.balance).toMatchObject({ available: 1, reserved: 0 });
      const lines = ledger.history.results as { type: string; scan_id?: string; reason?: string; at: string }[];
      const reservation = lines.find((e) => e.type === 'CreditsReserved' && e.scan_id === scanId)!;
      const refunds = lines.filter((e) => e.type === 'CreditsRefunded' && e.scan_id === scanId);
      expect(refunds).toHaveLength(1);
      expect(refunds[0]!.reason).toBe('scan was never created');
      expect(Date.parse(refunds[0]!.at) - Date.parse(reservation.at)).toBeGreaterThanOrEqual(GRACE_MS);
    },
  );
});
