import { assertNever, DomainError, type Decider } from '../shared/decider.js';
import type { EmailEvent } from './user.events.js';

/**
 * Who holds an e-mail address. The `email-<hash>` stream is appended with an
 * expected revision, so two concurrent registrations of one address cannot both
 * win. A claim whose user stream was never written (a crash between the two
 * appends) may be taken over by a later registration — but only once it is older
 * than any registration in progress could be, or a racing request would steal the
 * claim of one still writing its user.
 */
export const ABANDONED_CLAIM_MS = 60_000;
export type EmailCommand = {
  type: 'ClaimEmail';
  email: string;
  userId: string;
  /** Whether the current holder's user stream exists (read by the handler). */
  holderExists: boolean;
  now: string;
};

export type EmailState = { readonly holder: string | null; readonly claimedAt: string | null };

function decide(command: EmailCommand, state: EmailState): EmailEvent[] {
  switch (command.type) {
    case 'ClaimEmail':
      if (state.holder !== null && state.holder !== command.userId) {
        const abandoned =
          !command.holderExists &&
          state.claimedAt !== null &&
          Date.parse(command.now) - Date.parse(state.claimedAt) >= ABANDONED_CLAIM_MS;
        if (!abandoned) throw new DomainError('A user with this email already exists.', 'email_taken', 'conflict');
      }
      return [{ type: 'EmailClaimed', data: { email: command.email, userId: command.userId, claimedAt: command.now } }];
    default:
      return assertNever(command.type);
  }
}

function evolve(_state: EmailState, event: EmailEvent): EmailState {
  switch (event.type) {
    case 'EmailClaimed':
      return { holder: event.data.userId, claimedAt: event.data.claimedAt };
    default:
      return assertNever(event.type);
  }
}

export const emailDecider: Decider<EmailCommand, EmailEvent, EmailState> = {
  decide,
  evolve,
  initialState: () => ({ holder: null, claimedAt: null }),
};
