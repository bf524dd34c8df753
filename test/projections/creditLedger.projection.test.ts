import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../adapters/ports.js';
import { accountDecider, balanceAt, type AccountState } from '../../domain/accounts/account.decider.js';
import type { AccountEvent } from '../../domain/accounts/account.events.js';
import {
  balanceOf,
  creditBalancesProjection,
  creditLedgerProjection,
  type CreditBalanceDocument,
  type LedgerEntry as Entry,
} from '../../projections/creditLedger.projection.js';

const A = 'acct-1';
const T = (day: string) => `2026-${day}T12:00:00.000Z`;

/** The account's life through the decider itself: every event as it would be stored. */
function history(): AccountEvent[] {
  const commands: Parameters<typeof accountDecider.decide>[0][] = [
    { type: 'OpenAccount', accountId: A, now: T('10-30') },
    { type: 'ChangePlan', plan: 'indie', changedBy: 'operator', now: T('10-30') },
    { type: 'PurchaseCredits', credits: 5, reason: 'invoice', now: T('10-30') },
    { type: 'ReserveCredits', scanId: 's1', credits: 8, now: T('10-31') }, // 8 monthly
    { type: 'ReserveCredits', scanId: 's2', credits: 4, now: T('10-31') }, // 2 monthly + 2 purchased
    { type: 'SpendCredits', scanId: 's1', now: T('10-31') },
    { type: 'RefundCredits', scanId: 's2', reason: 'failed', now: T('10-31') },
    { type: 'ReserveCredits', scanId: 's3', credits: 1, now: T('11-02') }, // a new month first
    { type: 'ReserveCredits', scanId: 's4', credits: 3, now: T('11-02') },
    { type: 'RefundCredits', scanId: 's1', reason: 'failed late', now: T('11-03') }, // last month's: purchased only
    { type: 'TakeTargetSlot', targetId: 't1', now: T('11-03') },
  ];
  let state: AccountState = accountDecider.initialState();
  const events: AccountEvent[] = [];
  for (const command of commands) {
    for (const event of accountDecider.decide(command, state)) {
      events.push(event);
      state = accountDecider.evolve(state, event);
    }
  }
  return events;
}

function recorded(event: AccountEvent, revision: number): RecordedEvent {
  return {
    id: `e${revision}`,
    type: event.type,
    streamName: `account-${A}`,
    revision,
    position: 1000 + revision * 7,
    data: event.data as Record<string, unknown>,
    metadata: {},
    recordedAt: T('11-03'),
  };
}

describe('credit ledger read models', () => {
  it('the balance document gives the decider’s balance at every step and any time', () => {
    let state: AccountState = accountDecider.initialState();
    let doc: CreditBalanceDocument | null = null;
    history().forEach((event, revision) => {
      state = accountDecider.evolve(state, event);
      const record = recorded(event, revision);
      if (creditBalancesProjection.canHandle(record)) {
        const body = creditBalancesProjection.evolve(doc, record);
        doc = body ? ({ _id: A, ...body } as CreditBalanceDocument) : null;
      }
      for (const now of [T('10-31'), T('11-03'), T('12-01')]) {
        if (state.status === 'open' && now >= state.period) {
          expect(balanceOf(doc, now), `${event.type} @${now}`).toEqual(balanceAt(state, now));
        }
      }
    });
    expect(doc!.reserved_scans).toEqual({ s3: 1, s4: 3 });
  });

  it('one ledger line per credit movement, keyed by its place in the stream', () => {
    const lines = history()
      .map((event, revision) => recorded(event, revision))
      .filter((record) => creditLedgerProjection.canHandle(record))
      .map((record) => ({
        id: creditLedgerProjection.documentId(record),
        ...(creditLedgerProjection.evolve(null, record) as { account_id: string; position: number; entry: Entry }),
      }));
    expect(lines.map((line) => line.entry.type)).not.toContain('TargetSlotTaken');
    expect(lines[0]).toEqual({
      id: `account-${A}@0`,
      account_id: A,
      position: 1000,
      entry: { id: 1000, type: 'AccountOpened', credits: 0, plan: 'free', at: T('10-30') },
    });
    const refund = lines.find((line) => line.entry.reason === 'failed late')!;
    expect(refund.entry).toMatchObject({ type: 'CreditsRefunded', scan_id: 's1', to_monthly: 0, to_purchased: 0 });
  });
});
