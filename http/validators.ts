import { z } from 'zod';

/** Shared input rules. */

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;

/**
 * Password policy (NIST SP 800-63B style), the part that needs nothing else: the
 * length. Strength (not guessable: leaked, common, a pattern, the user's own
 * name or address) is checked with what is known of the user, see `passwordWeakness`.
 */
export const password = z
  .string({ error: 'A password is required.' })
  .min(PASSWORD_MIN, `The password must have at least ${PASSWORD_MIN} characters.`)
  .max(PASSWORD_MAX, `The password must have at most ${PASSWORD_MAX} characters.`);

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Characters that change how a name is displayed without being seen: bidirectional
 * overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069, the marks
 * U+200E/U+200F/U+061C) and zero-width characters (U+200B–U+200D, U+2060–U+2064,
 * U+FEFF, U+180E). "Invoice‮fdp.exe" must not pass for what it displays as.
 */
export const INVISIBLE_FORMATTING = /[\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;
export const INVISIBLE_FORMATTING_MESSAGE =
  'Invisible formatting characters (bidirectional overrides, zero-width characters) are not allowed.';

/** A name shown to people: no control characters, no invisible formatting. */
export const displayName = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'This field may not be blank.')
    .max(max, `At most ${max} characters.`)
    .refine((s) => !CONTROL.test(s), 'Control characters are not allowed.')
    .refine((s) => !INVISIBLE_FORMATTING.test(s), INVISIBLE_FORMATTING_MESSAGE);

export const personName = displayName(150);

/** DNS limits: every label of the domain at most 63 characters (RFC 1035). */
const EMAIL_DOMAIN_LABEL_MAX = 63;

export const email = z
  .string({ error: 'An email address is required.' })
  .trim()
  .max(254, 'At most 254 characters.')
  .pipe(z.email('Enter a valid email address.'))
  .refine(
    (address) =>
      address
        .slice(address.lastIndexOf('@') + 1)
        .split('.')
        .every((label) => label.length <= EMAIL_DOMAIN_LABEL_MAX),
    `Enter a valid email address (each part of the domain has at most ${EMAIL_DOMAIN_LABEL_MAX} characters).`,
  );
