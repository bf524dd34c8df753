import { z } from 'zod';

/** Shared input rules. */

const COMMON_PASSWORDS = new Set([
  'password',
  'password1',
  'password12',
  'password123',
  'password1234',
  '1234567890',
  '12345678910',
  'qwertyuiop',
  'qwerty1234',
  'qwerty12345',
  'iloveyou12',
  'letmein123',
  'welcome123',
  'admin12345',
  'abc1234567',
  '1q2w3e4r5t',
  'passw0rd123',
  'changeme123',
  'secret1234',
  'football123',
  'baseball123',
  'sunshine123',
  'princess123',
  'trustno1234',
  'starwars123',
  'dragon1234',
  'monkey1234',
  'master1234',
  '0987654321',
  '1111111111',
]);

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;

/** Password policy (NIST SP 800-63B style): length, not a known common password, not one repeated character. */
export const password = z
  .string({ error: 'A password is required.' })
  .min(PASSWORD_MIN, `The password must have at least ${PASSWORD_MIN} characters.`)
  .max(PASSWORD_MAX, `The password must have at most ${PASSWORD_MAX} characters.`)
  .refine((p) => !COMMON_PASSWORDS.has(p.toLowerCase()), 'This password is too common.')
  .refine((p) => new Set(p).size > 2, 'This password is too simple.');

const CONTROL = /[\u0000-\u001f\u007f]/;

export const personName = z
  .string()
  .trim()
  .min(1, 'This field may not be blank.')
  .max(150, 'At most 150 characters.')
  .refine((s) => !CONTROL.test(s), 'Control characters are not allowed.');

export const email = z
  .string({ error: 'An email address is required.' })
  .trim()
  .max(254, 'At most 254 characters.')
  .pipe(z.email('Enter a valid email address.'));
