import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { PasswordHasher } from './ports.js';

/**
 * scrypt (memory-hard) from node:crypto. Stored as
 * `scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>` so the cost can be raised
 * later without breaking old hashes. Default N=2^15, r=8: 32 MiB per hash.
 */
export function scryptPasswordHasher(options: { log2N?: number; r?: number; p?: number } = {}): PasswordHasher {
  const log2N = options.log2N ?? 15;
  const r = options.r ?? 8;
  const p = options.p ?? 1;
  const keyLength = 32;

  function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
    const scryptOptions: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
    return new Promise((resolve, reject) =>
      scrypt(password.normalize('NFKC'), salt, keyLength, scryptOptions, (error, key) =>
        error ? reject(error) : resolve(key),
      ),
    );
  }

  return {
    async hash(password) {
      const salt = randomBytes(16);
      const key = await derive(password, salt, { N: 2 ** log2N, r, p });
      return ['scrypt', log2N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
    },
    async verify(password, stored) {
      const parts = stored.split('$');
      if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
      const [, n, rs, ps, salt, hash] = parts as [string, string, string, string, string, string];
      const expected = Buffer.from(hash, 'base64');
      const key = await derive(password, Buffer.from(salt, 'base64'), {
        N: 2 ** Number(n),
        r: Number(rs),
        p: Number(ps),
      });
      return key.length === expected.length && timingSafeEqual(key, expected);
    },
  };
}
