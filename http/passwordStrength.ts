import { createRequire } from 'node:module';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

/**
 * Password strength, estimated by zxcvbn-ts (Dropbox's zxcvbn, in TypeScript) with its
 * common and English dictionaries: leaked-password lists, common words, names,
 * Wikipedia and diceware words, keyboard patterns, sequences, repeats, dates and
 * l33t substitutions. It estimates how many guesses an attacker needs; we require
 * score 3 ("safely unguessable: moderate protection from an offline slow-hash
 * scenario", about 10^8 guesses or more), the level its authors recommend.
 *
 * Only the first 48 characters are estimated: zxcvbn's cost grows fast with length
 * (a repetitive 128-character input takes seconds), and 48 characters that are hard
 * to guess make a password hard to guess whatever follows.
 */
export const REQUIRED_SCORE = 3;
export const ESTIMATED_CHARACTERS = 48;

let estimator: ZxcvbnFactory | undefined;

/**
 * Loaded and built on first use, synchronously (the packages are CommonJS): the
 * dictionaries (about 7 MB) take a few hundred milliseconds to load, which a
 * process that never checks a password (a worker, the projector) or a start
 * should not pay.
 */
function zxcvbn(): ZxcvbnFactory {
  if (!estimator) {
    const load = createRequire(import.meta.url);
    const core = load('@zxcvbn-ts/core') as typeof import('@zxcvbn-ts/core');
    const common = load('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
    const english = load('@zxcvbn-ts/language-en') as typeof import('@zxcvbn-ts/language-en');
    estimator = new core.ZxcvbnFactory({
      maxLength: ESTIMATED_CHARACTERS,
      dictionary: { ...common.dictionary, ...english.dictionary },
      graphs: common.adjacencyGraphs,
      translations: english.translations,
    });
  }
  return estimator;
}

/**
 * Why `password` is too easy to guess (zxcvbn's warning and suggestions, for the
 * 400), or undefined when it is strong enough. `userInputs`: what an attacker
 * knows of the user (e-mail, names), counted as guessable words.
 */
export function passwordWeakness(password: string, userInputs: readonly string[] = []): string | undefined {
  const inputs = userInputs.flatMap((input) => [input, ...input.split(/[@.\s_+-]+/)]).filter((s) => s.length >= 3);
  const result = zxcvbn().check(password, inputs);
  if (result.score >= REQUIRED_SCORE) return undefined;
  const { warning, suggestions } = result.feedback;
  return [
    'This password is too easy to guess.',
    warning,
    ...suggestions,
    suggestions.length === 0 ? 'Use a few uncommon words, or a longer mix of characters.' : undefined,
  ]
    .filter((part): part is string => Boolean(part))
    .join(' ');
}
