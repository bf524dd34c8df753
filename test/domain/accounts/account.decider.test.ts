import { describe, expect, it } from 'vitest';
import { accountDecider, balanceAt } from '../../../domain/accounts/account.decider.js';
import type { AccountEvent } from '../../../domain/accounts/account.events.js';
import { deciderSpec } from '../../support/deciderSpec.js';

const spec = deciderSpec(accountDecider);
const A = 'acc-1';
const NOV = '2026-11-10T12:00:00.000Z';
const DEC = '2026-12-01T00:00:05.000Z';

const opened = (plan: 'free' | 'indie' = 'free'): AccountEvent[] => [
  { type: 'AccountOpened', data: { accountId: A, plan: 'free', openedAt: '2026-11-01T00:00:00.000Z' } },
  {
    type: 'MonthlyCreditsGranted',
    data: { accountId: A, period: '2026-11', credits: 0, grantedAt: '2026-11-01T00:00:00.000Z' },
  },
  ...(plan === 'indie'
    ? ([
        {
          type: 'PlanChanged',
          data: {
            accountId: A,
            from: 'free',
            to: 'indie',
            changedBy: 'operator',
            changedAt: '2026-11-02T00:00:00.000Z',
          },
        },
        {
          type: 'MonthlyCreditsGranted',
          data: { accountId: A, period: '2026-11', credits: 10, grantedAt: '2026-11-02T00:00:00.000Z' },
        },
      ] as AccountEvent[])
    : []),
];

const purchased = (credits: number): AccountEvent => ({
  type: 'CreditsPurchased',
  data: { accountId: A, credits, reason: 'invoice 1', purchasedAt: '2026-11-03T00:00:00.000Z' },
});

const reserved = (
  scanId: string,
  credits: number,
  fromMonthly: number,
  fromPurchased: number,
  period = '2026-11',
): AccountEvent => ({
  type: 'CreditsReserved',
  data: { accountId: A, scanId, credits, fromMonthly, fromPurchased, period, reservedAt: NOV },
});

describe('account decider', () => {
  it('opens on the free plan with this month’s (zero) allowance', () => {
    spec
      .given([])
      .when({ type: 'OpenAccount', accountId: A, now: NOV })
      .then([
        { type: 'AccountOpened', data: { accountId: A, plan: 'free', openedAt: NOV } },
        { type: 'MonthlyCreditsGranted', data: { accountId: A, period: '2026-11', credits: 0, grantedAt: NOV } },
      ]);
  });

  it('opening twice changes nothing', () => {
    spec.given(opened()).when({ type: 'OpenAccount', accountId: A, now: NOV }).then([]);
  });

  it('a plan change grants the new plan’s monthly allowance for the current month', () => {
    spec
      .given(opened())
      .when({ type: 'ChangePlan', plan: 'startup', changedBy: 'operator', now: NOV })
      .then([
        {
          type: 'PlanChanged',
          data: { accountId: A, from: 'free', to: 'startup', changedBy: 'operator', changedAt: NOV },
        },
        { type: 'MonthlyCreditsGranted', data: { accountId: A, period: '2026-11', credits: 50, grantedAt: NOV } },
      ]);
  });

  it('reserves monthly credits first, then purchased ones', () => {
    spec
      .given([...opened('indie'), purchased(5)])
      .when({ type: 'ReserveCredits', scanId: 's1', credits: 12, now: NOV })
      .then([reserved('s1', 12, 10, 2)]);
  });

  it('refuses a reservation larger than the balance, with the figures', () => {
    spec
      .given([...opened('indie'), purchased(3), reserved('s0', 10, 10, 0)])
      .when({ type: 'ReserveCredits', scanId: 's1', credits: 5, now: NOV })
      .thenThrows('insufficient_credits', { required: 5, available: 3, monthly_credits: 0, purchased_credits: 3 });
  });

  it('free scans (0 credits) are reserved even with no credits, and counted as usage', () => {
    const after = spec
      .given(opened())
      .when({ type: 'ReserveCredits', scanId: 's1', credits: 0, now: NOV })
      .stateAfter();
    expect(balanceAt(after, NOV)).toMatchObject({ available: 0, scansInPeriod: 1 });
  });

  it('never reserves twice for one scan (idempotent)', () => {
    spec
      .given([...opened('indie'), reserved('s1', 2, 2, 0)])
      .when({ type: 'ReserveCredits', scanId: 's1', credits: 2, now: NOV })
      .then([]);
  });

  it('spends a reservation once', () => {
    const given = [...opened('indie'), reserved('s1', 2, 2, 0)];
    spec
      .given(given)
      .when({ type: 'SpendCredits', scanId: 's1', now: NOV })
      .then([{ type: 'CreditsSpent', data: { accountId: A, scanId: 's1', credits: 2, spentAt: NOV } }]);
    spec
      .given([...given, { type: 'CreditsSpent', data: { accountId: A, scanId: 's1', credits: 2, spentAt: NOV } }])
      .when({ type: 'SpendCredits', scanId: 's1', now: NOV })
      .then([]);
  });

  it('refunds to the buckets the credits came from, once', () => {
    const given = [...opened('indie'), purchased(5), reserved('s1', 12, 10, 2)];
    const refund: AccountEvent = {
      type: 'CreditsRefunded',
      data: { accountId: A, scanId: 's1', toMonthly: 10, toPurchased: 2, reason: 'scan failed', refundedAt: NOV },
    };
    spec.given(given).when({ type: 'RefundCredits', scanId: 's1', reason: 'scan failed', now: NOV }).then([refund]);
    const state = spec.given([...given, refund]).state;
    expect(balanceAt(state, NOV)).toMatchObject({ monthlyRemaining: 10, purchased: 5, available: 15, reserved: 0 });
    spec
      .given([...given, refund])
      .when({ type: 'RefundCredits', scanId: 's1', reason: 'again', now: NOV })
      .then([]);
  });

  it('refusing to spend or refund a scan that was never reserved', () => {
    spec.given(opened()).when({ type: 'SpendCredits', scanId: 'nope', now: NOV }).thenThrows('reservation_not_found');
    spec
      .given(opened())
      .when({ type: 'RefundCredits', scanId: 'nope', reason: 'x', now: NOV })
      .thenThrows('reservation_not_found');
  });

  it('a new UTC month brings a fresh allowance before the command', () => {
    spec
      .given([...opened('indie'), reserved('s1', 10, 10, 0)])
      .when({ type: 'ReserveCredits', scanId: 's2', credits: 3, now: DEC })
      .then([
        { type: 'MonthlyCreditsGranted', data: { accountId: A, period: '2026-12', credits: 10, grantedAt: DEC } },
        {
          type: 'CreditsReserved',
          data: {
            accountId: A,
            scanId: 's2',
            credits: 3,
            fromMonthly: 3,
            fromPurchased: 0,
            period: '2026-12',
            reservedAt: DEC,
          },
        },
      ]);
  });

  it('the balance shows the new month’s allowance before any event says so', () => {
    const state = spec.given([...opened('indie'), reserved('s1', 10, 10, 0)]).state;
    expect(balanceAt(state, NOV)).toMatchObject({ monthlyRemaining: 0, scansInPeriod: 1 });
    expect(balanceAt(state, DEC)).toMatchObject({ period: '2026-12', monthlyRemaining: 10, scansInPeriod: 0 });
  });

  it('a refund after the month ended returns only purchased credits (the old allowance expired)', () => {
    spec
      .given([...opened('indie'), purchased(5), reserved('s1', 12, 10, 2)])
      .when({ type: 'RefundCredits', scanId: 's1', reason: 'scan failed', now: DEC })
      .then([
        { type: 'MonthlyCreditsGranted', data: { accountId: A, period: '2026-12', credits: 10, grantedAt: DEC } },
        {
          type: 'CreditsRefunded',
          data: { accountId: A, scanId: 's1', toMonthly: 0, toPurchased: 2, reason: 'scan failed', refundedAt: DEC },
        },
      ]);
  });

  it('purchases must be positive whole numbers', () => {
    spec
      .given(opened())
      .when({ type: 'PurchaseCredits', credits: 0, reason: 'x', now: NOV })
      .thenThrows('invalid_credits');
    spec
      .given(opened())
      .when({ type: 'PurchaseCredits', credits: 1.5, reason: 'x', now: NOV })
      .thenThrows('invalid_credits');
  });

  it('commands on an account that does not exist are refused', () => {
    spec.given([]).when({ type: 'PurchaseCredits', credits: 5, reason: 'x', now: NOV }).thenThrows('account_not_found');
  });

  it('the balance is never negative, whatever the order of reservations', () => {
    let events: AccountEvent[] = [...opened('indie'), purchased(2)];
    for (let i = 0; i < 20; i++) {
      const state = events.reduce(accountDecider.evolve, accountDecider.initialState());
      try {
        events = [
          ...events,
          ...accountDecider.decide({ type: 'ReserveCredits', scanId: `s${i}`, credits: 3, now: NOV }, state),
        ];
      } catch {
        /* refused: fine */
      }
    }
    const state = events.reduce(accountDecider.evolve, accountDecider.initialState());
    const balance = balanceAt(state, NOV);
    expect(balance.available).toBeGreaterThanOrEqual(0);
    expect(balance.reserved).toBe(12);
    expect(balance.available).toBe(0);
  });
});
