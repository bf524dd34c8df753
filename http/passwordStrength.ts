import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';

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

/** Built on first use (the dictionaries take a few hundred milliseconds to load). */
function zxcvbn(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    maxLength: ESTIMATED_CHARACTERS,
    dictionary: { ...common.dictionary, ...english.dictionary },
    graphs: common.adjacencyGraphs,
    translations: english.translations,
  });
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
