import type { ReadModelDocument, RecordedEvent } from '../adapters/ports.js';
import { AccountEvent } from '../domain/accounts/account.events.js';
import type { PlanId } from '../domain/accounts/plans.js';
import { UserEvent } from '../domain/accounts/user.events.js';
import { periodOf } from '../domain/shared/decider.js';
import { handlesTypes, type DocumentBody, type Projection } from './projection.js';

/** One document per user: who they are, their plan and their usage. Serves /profile/, /stats/ and auth checks. */
export interface ProfileDocument extends ReadModelDocument {
  email: string;
  first_name: string;
  last_name: string;
  date_joined: string;
  /** Access tokens carry the session version they were issued under; a password change bumps it. */
  session_version: number;
  /**
   * Refresh-token families revoked for reuse, with when: their access tokens are refused.
   * Kept for a day (the longest access-token lifetime), at most 100.
   */
  revoked_families?: { family_id: string; revoked_at: string }[];
  plan: PlanId;
  /** Month (UTC) that `scans_in_period` counts. */
  usage_period: string;
  scans_in_period: number;
  targets_count: number;
}

const USER_TYPES = ['UserRegistered', 'ProfileUpdated', 'PasswordChanged', 'RefreshTokenFamilyRevoked'] as const;
const REVOKED_FAMILIES_KEPT_MS = 86_400_000;
const REVOKED_FAMILIES_MAX = 100;
const ACCOUNT_TYPES = ['AccountOpened', 'PlanChanged', 'CreditsReserved', 'MonthlyCreditsGranted'] as const;
/** Target events (issue: targets) reference the owner by `userId`. */
export const TARGET_COUNT_TYPES = { added: 'TargetAdded', removed: 'TargetDeleted' } as const;

const EMPTY: DocumentBody<ProfileDocument> = {
  email: '',
  first_name: '',
  last_name: '',
  date_joined: '',
  session_version: 0,
  plan: 'free',
  usage_period: '',
  scans_in_period: 0,
  targets_count: 0,
};

export const profilesProjection: Projection<ProfileDocument> = {
  name: 'profiles',
  collection: 'profiles',
  canHandle: handlesTypes([...USER_TYPES, ...ACCOUNT_TYPES, TARGET_COUNT_TYPES.added, TARGET_COUNT_TYPES.removed]),
  documentId: (event: RecordedEvent) => String(event.data.userId ?? event.data.accountId),
  evolve(current, event) {
    const doc: DocumentBody<ProfileDocument> = current ? { ...current } : { ...EMPTY };
    if (event.type === TARGET_COUNT_TYPES.added) return { ...doc, targets_count: doc.targets_count + 1 };
    if (event.type === TARGET_COUNT_TYPES.removed) return { ...doc, targets_count: Math.max(0, doc.targets_count - 1) };
    if ((USER_TYPES as readonly string[]).includes(event.type)) {
      const e = UserEvent.parse({ type: event.type, data: event.data });
      switch (e.type) {
        case 'UserRegistered':
          return {
            ...doc,
            email: e.data.email,
            first_name: e.data.firstName,
            last_name: e.data.lastName,
            date_joined: e.data.registeredAt,
          };
        case 'ProfileUpdated':
          return {
            ...doc,
            first_name: e.data.firstName ?? doc.first_name,
            last_name: e.data.lastName ?? doc.last_name,
          };
        case 'PasswordChanged':
          // Every access token is refused by its session version now: the list can go.
          return { ...doc, session_version: doc.session_version + 1, revoked_families: [] };
        case 'RefreshTokenFamilyRevoked': {
          const since = Date.parse(e.data.revokedAt) - REVOKED_FAMILIES_KEPT_MS;
          const kept = (doc.revoked_families ?? []).filter((f) => Date.parse(f.revoked_at) > since);
          return {
            ...doc,
            revoked_families: [...kept, { family_id: e.data.familyId, revoked_at: e.data.revokedAt }].slice(
              -REVOKED_FAMILIES_MAX,
            ),
          };
        }
        default:
          return doc;
      }
    }
    const e = AccountEvent.parse({ type: event.type, data: event.data });
    switch (e.type) {
      case 'AccountOpened':
        return { ...doc, plan: e.data.plan, usage_period: periodOf(e.data.openedAt) };
      case 'PlanChanged':
        return { ...doc, plan: e.data.to };
      case 'MonthlyCreditsGranted':
        return e.data.period === doc.usage_period ? doc : { ...doc, usage_period: e.data.period, scans_in_period: 0 };
      case 'CreditsReserved':
        return e.data.period === doc.usage_period
          ? { ...doc, scans_in_period: doc.scans_in_period + 1 }
          : { ...doc, usage_period: e.data.period, scans_in_period: 1 };
      default:
        return doc;
    }
  },
};
