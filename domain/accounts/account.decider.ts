import { assertNever, DomainError, periodOf, type Decider } from '../shared/decider.js';
import type { AccountEvent } from './account.events.js';
import { PLANS, type PlanId } from './plans.js';

/**
 * The account: its plan and its credit ledger. Every movement of credits is an
 * event; the balance is never edited. Monthly credits reset each calendar month
 * (UTC) and are spent before purchased credits, which never expire.
 */
export type AccountCommand =
  | { type: 'OpenAccount'; accountId: string; now: string }
  | { type: 'ChangePlan'; plan: PlanId; changedBy: string; now: string }
  | { type: 'PurchaseCredits'; credits: number; reason: string; now: string }
  | { type: 'ReserveCredits'; scanId: string; credits: number; now: string }
  | { type: 'SpendCredits'; scanId: string; now: string }
  | { type: 'RefundCredits'; scanId: string; reason: string; now: string }
  | { type: 'TakeTargetSlot'; targetId: string; now: string }
  | { type: 'ReleaseTargetSlot'; targetId: string; now: string };

export interface Reservation {
  readonly credits: number;
  readonly fromMonthly: number;
  readonly fromPurchased: number;
  readonly period: string;
  readonly status: 'reserved' | 'spent' | 'refunded';
}

export type AccountState =
  | { readonly status: 'none' }
  | {
      readonly status: 'open';
      readonly accountId: string;
      readonly plan: PlanId;
      readonly openedAt: string;
      /** The month the monthly figures below belong to ("2026-11"). */
      readonly period: string;
      readonly monthlyAllowance: number;
      readonly monthlyUsed: number;
      readonly purchased: number;
      /** Scans paid for (reserved) in `period`, free ones included. */
      readonly scansInPeriod: number;
      readonly reservations: Readonly<Record<string, Reservation>>;
      /** Targets counted against the plan's limit. */
      readonly targetIds: readonly string[];
    };

type OpenAccount = Extract<AccountState, { status: 'open' }>;

export interface CreditBalance {
  readonly period: string;
  readonly monthlyAllowance: number;
  readonly monthlyRemaining: number;
  readonly purchased: number;
  readonly available: number;
  readonly reserved: number;
  readonly scansInPeriod: number;
}

/** The balance as it stands at `now` (a new month shows its fresh allowance before any event says so). */
export function balanceAt(state: AccountState, now: string): CreditBalance {
  if (state.status !== 'open') {
    return {
      period: periodOf(now),
      monthlyAllowance: 0,
      monthlyRemaining: 0,
      purchased: 0,
      available: 0,
      reserved: 0,
      scansInPeriod: 0,
    };
  }
  const current = periodOf(now) === state.period;
  const monthlyAllowance = current ? state.monthlyAllowance : PLANS[state.plan].scanCreditsPerMonth;
  const monthlyRemaining = current ? Math.max(0, state.monthlyAllowance - state.monthlyUsed) : monthlyAllowance;
  const reserved = Object.values(state.reservations)
    .filter((r) => r.status === 'reserved')
    .reduce((sum, r) => sum + r.credits, 0);
  return {
    period: periodOf(now),
    monthlyAllowance,
    monthlyRemaining,
    purchased: state.purchased,
    available: monthlyRemaining + state.purchased,
    reserved,
    scansInPeriod: current ? state.scansInPeriod : 0,
  };
}

function opened(state: AccountState): OpenAccount {
  if (state.status !== 'open') throw new DomainError('account not found', 'account_not_found', 'not_found');
  return state;
}

/** The grant a new month brings, if `now` is past the state's month. */
function rollover(state: OpenAccount, now: string): AccountEvent[] {
  const period = periodOf(now);
  if (period <= state.period) return [];
  const credits = PLANS[state.plan].scanCreditsPerMonth;
  return [{ type: 'MonthlyCreditsGranted', data: { accountId: state.accountId, period, credits, grantedAt: now } }];
}

function decideOnOpen(command: Exclude<AccountCommand, { type: 'OpenAccount' }>, state: OpenAccount): AccountEvent[] {
  const accountId = state.accountId;
  switch (command.type) {
    case 'ChangePlan': {
      if (command.plan === state.plan) return [];
      return [
        {
          type: 'PlanChanged',
          data: { accountId, from: state.plan, to: command.plan, changedBy: command.changedBy, changedAt: command.now },
        },
        {
          type: 'MonthlyCreditsGranted',
          data: {
            accountId,
            period: state.period,
            credits: PLANS[command.plan].scanCreditsPerMonth,
            grantedAt: command.now,
          },
        },
      ];
    }
    case 'PurchaseCredits':
      if (!Number.isSafeInteger(command.credits) || command.credits <= 0) {
        throw new DomainError('credits must be a positive whole number', 'invalid_credits', 'invalid');
      }
      return [
        {
          type: 'CreditsPurchased',
          data: { accountId, credits: command.credits, reason: command.reason, purchasedAt: command.now },
        },
      ];
    case 'ReserveCredits': {
      if (state.reservations[command.scanId]) return []; // already reserved: never charge twice
      if (!Number.isSafeInteger(command.credits) || command.credits < 0) {
        throw new DomainError('credits must be a whole number ≥ 0', 'invalid_credits', 'invalid');
      }
      const balance = balanceAt(state, command.now);
      if (command.credits > balance.available) {
        throw new DomainError('Insufficient scan credits', 'insufficient_credits', 'payment_required', {
          required: command.credits,
          available: balance.available,
          monthly_credits: balance.monthlyRemaining,
          purchased_credits: balance.purchased,
        });
      }
      const fromMonthly = Math.min(command.credits, balance.monthlyRemaining);
      return [
        {
          type: 'CreditsReserved',
          data: {
            accountId,
            scanId: command.scanId,
            credits: command.credits,
            fromMonthly,
            fromPurchased: command.credits - fromMonthly,
            period: state.period,
            reservedAt: command.now,
          },
        },
      ];
    }
    case 'SpendCredits': {
      const reservation = state.reservations[command.scanId];
      if (!reservation) throw new DomainError('no reservation for this scan', 'reservation_not_found', 'not_found');
      if (reservation.status !== 'reserved') return []; // spent or refunded already: at-least-once delivery
      return [
        {
          type: 'CreditsSpent',
          data: { accountId, scanId: command.scanId, credits: reservation.credits, spentAt: command.now },
        },
      ];
    }
    case 'RefundCredits': {
      const reservation = state.reservations[command.scanId];
      if (!reservation) throw new DomainError('no reservation for this scan', 'reservation_not_found', 'not_found');
      if (reservation.status === 'refunded') return [];
      return [
        {
          type: 'CreditsRefunded',
          data: {
            accountId,
            scanId: command.scanId,
            toMonthly: reservation.period === state.period ? reservation.fromMonthly : 0,
            toPurchased: reservation.fromPurchased,
            reason: command.reason,
            refundedAt: command.now,
          },
        },
      ];
    }
    case 'TakeTargetSlot': {
      if (state.targetIds.includes(command.targetId)) return [];
      const limit = PLANS[state.plan].targetsLimit;
      if (limit !== null && state.targetIds.length >= limit) {
        throw new DomainError(
          `Your ${PLANS[state.plan].name} plan allows ${limit} targets; delete one or upgrade your plan.`,
          'target_limit_reached',
          'forbidden',
          { limit, count: state.targetIds.length, upgrade_url: '/pricing/' },
        );
      }
      return [{ type: 'TargetSlotTaken', data: { accountId, targetId: command.targetId, takenAt: command.now } }];
    }
    case 'ReleaseTargetSlot':
      if (!state.targetIds.includes(command.targetId)) return [];
      return [{ type: 'TargetSlotReleased', data: { accountId, targetId: command.targetId, releasedAt: command.now } }];
    default:
      return assertNever(command);
  }
}

function decide(command: AccountCommand, state: AccountState): AccountEvent[] {
  if (command.type === 'OpenAccount') {
    if (state.status !== 'none') return []; // opening twice is a no-op
    const plan: PlanId = 'free';
    return [
      { type: 'AccountOpened', data: { accountId: command.accountId, plan, openedAt: command.now } },
      {
        type: 'MonthlyCreditsGranted',
        data: {
          accountId: command.accountId,
          period: periodOf(command.now),
          credits: PLANS[plan].scanCreditsPerMonth,
          grantedAt: command.now,
        },
      },
    ];
  }
  const account = opened(state);
  const grants = rollover(account, command.now);
  const current = grants.reduce<AccountState>(evolve, account) as OpenAccount;
  return [...grants, ...decideOnOpen(command, current)];
}

/**
 * At a new month, forget reservations that can no longer move: refunded ones and
 * ones spent before the month that just ended (a scan spent late in a month may
 * still fail and be refunded early in the next).
 */
function settledDropped(
  reservations: Readonly<Record<string, Reservation>>,
  endingPeriod: string,
): Record<string, Reservation> {
  return Object.fromEntries(
    Object.entries(reservations).filter(
      ([, r]) => r.status === 'reserved' || (r.status === 'spent' && r.period >= endingPeriod),
    ),
  );
}

function evolve(state: AccountState, event: AccountEvent): AccountState {
  if (event.type === 'AccountOpened') {
    return {
      status: 'open',
      accountId: event.data.accountId,
      plan: event.data.plan,
      openedAt: event.data.openedAt,
      period: periodOf(event.data.openedAt),
      monthlyAllowance: 0,
      monthlyUsed: 0,
      purchased: 0,
      scansInPeriod: 0,
      reservations: {},
      targetIds: [],
    };
  }
  if (state.status !== 'open') return state;
  switch (event.type) {
    case 'PlanChanged':
      return { ...state, plan: event.data.to };
    case 'MonthlyCreditsGranted':
      return event.data.period === state.period
        ? { ...state, monthlyAllowance: event.data.credits }
        : {
            ...state,
            period: event.data.period,
            monthlyAllowance: event.data.credits,
            monthlyUsed: 0,
            scansInPeriod: 0,
            reservations: settledDropped(state.reservations, state.period),
          };
    case 'CreditsPurchased':
      return { ...state, purchased: state.purchased + event.data.credits };
    case 'CreditsReserved': {
      const d = event.data;
      return {
        ...state,
        monthlyUsed: state.monthlyUsed + d.fromMonthly,
        purchased: state.purchased - d.fromPurchased,
        scansInPeriod: state.scansInPeriod + 1,
        reservations: {
          ...state.reservations,
          [d.scanId]: {
            credits: d.credits,
            fromMonthly: d.fromMonthly,
            fromPurchased: d.fromPurchased,
            period: d.period,
            status: 'reserved',
          },
        },
      };
    }
    case 'CreditsSpent': {
      const reservation = state.reservations[event.data.scanId];
      if (!reservation) return state;
      return {
        ...state,
        reservations: { ...state.reservations, [event.data.scanId]: { ...reservation, status: 'spent' } },
      };
    }
    case 'CreditsRefunded': {
      const reservation = state.reservations[event.data.scanId];
      if (!reservation) return state;
      return {
        ...state,
        monthlyUsed: Math.max(0, state.monthlyUsed - event.data.toMonthly),
        purchased: state.purchased + event.data.toPurchased,
        reservations: { ...state.reservations, [event.data.scanId]: { ...reservation, status: 'refunded' } },
      };
    }
    case 'TargetSlotTaken':
      return { ...state, targetIds: [...state.targetIds, event.data.targetId] };
    case 'TargetSlotReleased':
      return { ...state, targetIds: state.targetIds.filter((id) => id !== event.data.targetId) };
    default:
      return assertNever(event);
  }
}

export const accountDecider: Decider<AccountCommand, AccountEvent, AccountState> = {
  decide,
  evolve,
  initialState: () => ({ status: 'none' }),
};
