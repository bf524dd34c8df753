import type { ReadModelDocument, RecordedEvent } from '../adapters/ports.js';
import { balanceAt, type AccountState, type CreditBalance } from '../domain/accounts/account.decider.js';
import { AccountEvent } from '../domain/accounts/account.events.js';
import type { PlanId } from '../domain/accounts/plans.js';
import { periodOf } from '../domain/shared/decider.js';
import { handlesTypes, type DocumentBody, type Projection } from './projection.js';

/** The account events that move credits (or change the plan): one ledger line each. */
const LEDGER_TYPES = [
  'AccountOpened',
  'PlanChanged',
  'MonthlyCreditsGranted',
  'CreditsPurchased',
  'CreditsReserved',
  'CreditsSpent',
  'CreditsRefunded',
] as const;

/** One line of GET /account/credits/ history, as the API shows it. */
export type LedgerEntry = Record<string, unknown> & { id: number; type: string; credits: number; at: string };

/** One credit movement of an account, newest first by `position` (also the line's id). */
export interface CreditLedgerDocument extends ReadModelDocument {
  account_id: string;
  position: number;
  entry: LedgerEntry;
}

/** The ledger line of an account event (`id`: its global position). */
export function ledgerEntry(event: AccountEvent, position: number): LedgerEntry | undefined {
  const base = { id: position, type: event.type };
  switch (event.type) {
    case 'AccountOpened':
      return { ...base, credits: 0, plan: event.data.plan, at: event.data.openedAt };
    case 'PlanChanged':
      return { ...base, credits: 0, from: event.data.from, to: event.data.to, at: event.data.changedAt };
    case 'MonthlyCreditsGranted':
      return {
        ...base,
        credits: event.data.credits,
        period: event.data.period,
        bucket: 'monthly',
        at: event.data.grantedAt,
      };
    case 'CreditsPurchased':
      return {
        ...base,
        credits: event.data.credits,
        bucket: 'purchased',
        reason: event.data.reason,
        at: event.data.purchasedAt,
      };
    case 'CreditsReserved':
      return {
        ...base,
        credits: -event.data.credits,
        scan_id: event.data.scanId,
        from_monthly: event.data.fromMonthly,
        from_purchased: event.data.fromPurchased,
        at: event.data.reservedAt,
      };
    case 'CreditsSpent':
      return { ...base, credits: 0, scan_id: event.data.scanId, spent: event.data.credits, at: event.data.spentAt };
    case 'CreditsRefunded':
      return {
        ...base,
        credits: event.data.toMonthly + event.data.toPurchased,
        scan_id: event.data.scanId,
        to_monthly: event.data.toMonthly,
        to_purchased: event.data.toPurchased,
        reason: event.data.reason,
        at: event.data.refundedAt,
      };
    case 'TargetSlotTaken':
    case 'TargetSlotReleased':
      return undefined; // not a credit movement
  }
}

/**
 * The credit ledger: one document per movement, so GET /account/credits/ pages
 * through an index (account, position) instead of folding the account stream (two
 * events per scan, forever) on every request.
 */
export const creditLedgerProjection: Projection<CreditLedgerDocument> = {
  name: 'credit_ledger',
  collection: 'credit_ledger',
  canHandle: handlesTypes(LEDGER_TYPES),
  // The event's place in its stream: unique and the same on every replay.
  documentId: (event: RecordedEvent) => `${event.streamName}@${event.revision}`,
  evolve(_current, recorded) {
    const event = AccountEvent.parse({ type: recorded.type, data: recorded.data });
    const entry = ledgerEntry(event, recorded.position);
    return entry ? { account_id: event.data.accountId, position: recorded.position, entry } : null;
  },
};

/**
 * Each account's balance, kept as the account decider keeps it (monthly figures of
 * the current period, purchased credits, the reservations not yet spent or
 * refunded), so the balance is one document read; `balanceOf` gives it as at a time
 * (a new month shows its fresh allowance before any event says so).
 */
export interface CreditBalanceDocument extends ReadModelDocument {
  plan: PlanId;
  opened_at: string;
  period: string;
  monthly_allowance: number;
  monthly_used: number;
  purchased: number;
  scans_in_period: number;
  /** Reservations neither spent nor refunded: scan id → credits. */
  reserved_scans: Record<string, number>;
}

export const creditBalancesProjection: Projection<CreditBalanceDocument> = {
  name: 'credit_balances',
  collection: 'credit_balances',
  canHandle: handlesTypes(LEDGER_TYPES),
  documentId: (event: RecordedEvent) => String(event.data.accountId),
  evolve(current, recorded) {
    const event = AccountEvent.parse({ type: recorded.type, data: recorded.data });
    if (event.type === 'AccountOpened') {
      return {
        plan: event.data.plan,
        opened_at: event.data.openedAt,
        period: periodOf(event.data.openedAt),
        monthly_allowance: 0,
        monthly_used: 0,
        purchased: 0,
        scans_in_period: 0,
        reserved_scans: {},
      };
    }
    if (!current) return null;
    const doc: DocumentBody<CreditBalanceDocument> = { ...current, reserved_scans: { ...current.reserved_scans } };
    switch (event.type) {
      case 'PlanChanged':
        return { ...doc, plan: event.data.to };
      case 'MonthlyCreditsGranted':
        return event.data.period === doc.period
          ? { ...doc, monthly_allowance: event.data.credits }
          : {
              ...doc,
              period: event.data.period,
              monthly_allowance: event.data.credits,
              monthly_used: 0,
              scans_in_period: 0,
            };
      case 'CreditsPurchased':
        return { ...doc, purchased: doc.purchased + event.data.credits };
      case 'CreditsReserved':
        doc.reserved_scans[event.data.scanId] = event.data.credits;
        return {
          ...doc,
          monthly_used: doc.monthly_used + event.data.fromMonthly,
          purchased: doc.purchased - event.data.fromPurchased,
          scans_in_period: doc.scans_in_period + 1,
        };
      case 'CreditsSpent':
        delete doc.reserved_scans[event.data.scanId];
        return doc;
      case 'CreditsRefunded':
        delete doc.reserved_scans[event.data.scanId];
        return {
          ...doc,
          monthly_used: Math.max(0, doc.monthly_used - event.data.toMonthly),
          purchased: doc.purchased + event.data.toPurchased,
        };
      default:
        return doc;
    }
  },
};

/** The balance of a balance document as at `now` (the account decider's own rule). */
export function balanceOf(doc: CreditBalanceDocument | null, now: string): CreditBalance {
  if (!doc) return balanceAt({ status: 'none' }, now);
  const state: AccountState = {
    status: 'open',
    accountId: doc._id,
    plan: doc.plan,
    openedAt: doc.opened_at,
    period: doc.period,
    monthlyAllowance: doc.monthly_allowance,
    monthlyUsed: doc.monthly_used,
    purchased: doc.purchased,
    scansInPeriod: doc.scans_in_period,
    reservations: Object.fromEntries(
      Object.entries(doc.reserved_scans).map(([scanId, credits]) => [
        scanId,
        { credits, fromMonthly: 0, fromPurchased: 0, period: doc.period, status: 'reserved' as const },
      ]),
    ),
    targetIds: [],
  };
  return balanceAt(state, now);
}
