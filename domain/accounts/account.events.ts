import { z } from 'zod';
import { PLAN_IDS } from './plans.js';

/** Events of an `account-<userId>` stream: the plan and the credit ledger. */
const Plan = z.enum(PLAN_IDS);

export const AccountOpened = z.object({
  type: z.literal('AccountOpened'),
  data: z.object({ accountId: z.string(), plan: Plan, openedAt: z.string() }),
});

export const PlanChanged = z.object({
  type: z.literal('PlanChanged'),
  data: z.object({ accountId: z.string(), from: Plan, to: Plan, changedBy: z.string(), changedAt: z.string() }),
});

/**
 * The monthly allowance for a calendar month (UTC). Granted when the account
 * opens, on its first movement in a new month, and again (the new plan's
 * allowance) when the plan changes; `credits` is the month's whole allowance.
 */
export const MonthlyCreditsGranted = z.object({
  type: z.literal('MonthlyCreditsGranted'),
  data: z.object({
    accountId: z.string(),
    period: z.string(),
    credits: z.number().int().min(0),
    grantedAt: z.string(),
  }),
});

export const CreditsPurchased = z.object({
  type: z.literal('CreditsPurchased'),
  data: z.object({
    accountId: z.string(),
    credits: z.number().int().positive(),
    reason: z.string(),
    purchasedAt: z.string(),
  }),
});

/** Credits held for a scan: monthly ones first, then purchased ones. */
export const CreditsReserved = z.object({
  type: z.literal('CreditsReserved'),
  data: z.object({
    accountId: z.string(),
    scanId: z.string(),
    credits: z.number().int().min(0),
    fromMonthly: z.number().int().min(0),
    fromPurchased: z.number().int().min(0),
    period: z.string(),
    reservedAt: z.string(),
  }),
});

/** The scan ran: its reservation is now spent. */
export const CreditsSpent = z.object({
  type: z.literal('CreditsSpent'),
  data: z.object({ accountId: z.string(), scanId: z.string(), credits: z.number().int().min(0), spentAt: z.string() }),
});

/**
 * A reservation given back. Monthly credits go back to the month they came
 * from only while it is still the current one (a past month's allowance has
 * expired anyway); purchased credits always come back.
 */
export const CreditsRefunded = z.object({
  type: z.literal('CreditsRefunded'),
  data: z.object({
    accountId: z.string(),
    scanId: z.string(),
    toMonthly: z.number().int().min(0),
    toPurchased: z.number().int().min(0),
    reason: z.string(),
    refundedAt: z.string(),
  }),
});

/** A target counted against the plan's target limit. */
export const TargetSlotTaken = z.object({
  type: z.literal('TargetSlotTaken'),
  data: z.object({ accountId: z.string(), targetId: z.string(), takenAt: z.string() }),
});

export const TargetSlotReleased = z.object({
  type: z.literal('TargetSlotReleased'),
  data: z.object({ accountId: z.string(), targetId: z.string(), releasedAt: z.string() }),
});

export const AccountEvent = z.discriminatedUnion('type', [
  AccountOpened,
  PlanChanged,
  MonthlyCreditsGranted,
  CreditsPurchased,
  CreditsReserved,
  CreditsSpent,
  CreditsRefunded,
  TargetSlotTaken,
  TargetSlotReleased,
]);
export type AccountEvent = z.infer<typeof AccountEvent>;
export const ACCOUNT_EVENT_TYPES = AccountEvent.options.map((o) => o.shape.type.value);
