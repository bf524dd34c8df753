import { describe, expect, it } from 'vitest';
import { sqliteEventStore } from '../../adapters/sqliteEventStore.js';
import { cryptoIds } from '../../adapters/cryptoIds.js';
import { aggregateState, handleCommand } from '../../commands/handleCommand.js';
import { accountDecider, balanceAt } from '../../domain/accounts/account.decider.js';
import { AccountEvent } from '../../domain/accounts/account.events.js';

const NOW = '2026-11-10T12:00:00.000Z';

describe('aggregateState (cached fold)', () => {
  it('always reflects events appended since, by this process or another writer', async () => {
    const store = sqliteEventStore({ path: ':memory:' });
    const deps = { store, ids: cryptoIds };
    const stream = `account-${cryptoIds.uuid()}`;
    await handleCommand(deps, stream, accountDecider, AccountEvent, { type: 'OpenAccount', accountId: 'a', now: NOW });
    await handleCommand(deps, stream, accountDecider, AccountEvent, {
      type: 'PurchaseCredits',
      credits: 10,
      reason: 'x',
      now: NOW,
    });
    // Another writer appends behind the cache's back.
    await store.appendToStream(stream, [
      {
        id: cryptoIds.uuid(),
        type: 'CreditsPurchased',
        data: { accountId: 'a', credits: 5, reason: 'y', purchasedAt: NOW },
      },
    ]);
    const { state, revision } = await aggregateState(store, stream, accountDecider, AccountEvent);
    expect(revision).toBe(3);
    expect(balanceAt(state, NOW).purchased).toBe(15);

    // The same as a fold from scratch.
    const events = (await store.readStream(stream)).map((e) => AccountEvent.parse({ type: e.type, data: e.data }));
    expect(state).toEqual(events.reduce(accountDecider.evolve, accountDecider.initialState()));
    await store.close();
  });

  it('a command on a long stream reads only what is new (a thousand reservations stay cheap)', async () => {
    const store = sqliteEventStore({ path: ':memory:' });
    const deps = { store, ids: cryptoIds };
    const stream = `account-${cryptoIds.uuid()}`;
    await handleCommand(deps, stream, accountDecider, AccountEvent, { type: 'OpenAccount', accountId: 'a', now: NOW });
    let read = 0;
    const counting = {
      ...store,
      readStream: async (...args: Parameters<typeof store.readStream>) => {
        const events = await store.readStream(...args);
        read += events.length;
        return events;
      },
    };
    for (let i = 0; i < 1000; i++) {
      await handleCommand({ store: counting, ids: cryptoIds }, stream, accountDecider, AccountEvent, {
        type: 'ReserveCredits',
        scanId: `s${i}`,
        credits: 0,
        now: NOW,
      });
    }
    // Each command reads the events appended since the previous one, not the whole stream.
    expect(read).toBeLessThan(3_000);
    await store.close();
  });
});
