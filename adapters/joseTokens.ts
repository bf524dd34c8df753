import { webcrypto } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { UnauthorizedError, type AccessClaims, type Tokens } from './ports.js';

const ISSUER = 'secably';
const ACCESS_AUDIENCE = 'secably-api';
const REFRESH_AUDIENCE = 'secably-refresh';

/**
 * HS256 JWTs via jose. Only HS256 is accepted (so `alg: none` and algorithm
 * confusion fail), with our issuer and an audience per token kind (a refresh
 * token is no access token and vice versa), and `exp` checked against `now`.
 */
export function joseTokens(options: { secret: string; accessTtlSeconds?: number; refreshTtlSeconds?: number }): Tokens {
  // Imported once: handing jose the raw bytes would import the key again on every call.
  let cryptoKey: Promise<webcrypto.CryptoKey> | undefined;
  const key = () =>
    (cryptoKey ??= webcrypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(options.secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    ));
  /**
   * Access tokens already verified, until they expire: the API checks the same
   * token on every call of a client. Only a token whose signature was checked gets
   * here, so its claims are ours; revocation is still checked by the caller.
   */
  const verified = new Map<string, { claims: AccessClaims; exp: number }>();
  const VERIFIED_LIMIT = 10_000;
  const accessTtl = options.accessTtlSeconds ?? 15 * 60;
  const refreshTtl = options.refreshTtlSeconds ?? 7 * 24 * 3600;

  async function sign(claims: Record<string, unknown>, subject: string, audience: string, ttl: number, now: Date) {
    const iat = Math.floor(now.getTime() / 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject)
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .sign(await key());
    return { token, expiresAt: new Date((iat + ttl) * 1000) };
  }

  async function verify(token: string, audience: string, now: Date) {
    try {
      const { payload } = await jwtVerify(token, await key(), {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience,
        currentDate: now,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      return payload;
    } catch (error) {
      if (error instanceof errors.JOSEError || error instanceof TypeError) {
        throw new UnauthorizedError(error instanceof errors.JWTExpired ? 'Token has expired.' : 'Token is invalid.');
      }
      throw error;
    }
  }

  return {
    signAccess: (claims, now) =>
      sign(
        { sv: claims.sessionVersion, ...(claims.familyId !== undefined ? { fid: claims.familyId } : {}) },
        claims.userId,
        ACCESS_AUDIENCE,
        accessTtl,
        now,
      ),
    signRefresh: (claims, now) =>
      sign({ fam: claims.familyId, jti: claims.tokenId }, claims.userId, REFRESH_AUDIENCE, refreshTtl, now),
    async verifyAccess(token, now) {
      const seconds = Math.floor(now.getTime() / 1000);
      const known = verified.get(token);
      if (known && known.exp > seconds) return known.claims;
      const payload = await verify(token, ACCESS_AUDIENCE, now);
      if (
        typeof payload.sub !== 'string' ||
        typeof payload.sv !== 'number' ||
        (payload.fid !== undefined && typeof payload.fid !== 'string')
      ) {
        throw new UnauthorizedError('Token is invalid.');
      }
      const claims: AccessClaims = {
        userId: payload.sub,
        sessionVersion: payload.sv,
        ...(typeof payload.fid === 'string' ? { familyId: payload.fid } : {}),
      };
      // Only tokens already valid at `now` are remembered (a token "from the future" is checked each time).
      if (typeof payload.iat === 'number' && payload.iat <= seconds && typeof payload.exp === 'number') {
        if (verified.size >= VERIFIED_LIMIT) verified.delete(verified.keys().next().value as string);
        verified.set(token, { claims, exp: payload.exp });
      }
      return claims;
    },
    async verifyRefresh(token, now) {
      const payload = await verify(token, REFRESH_AUDIENCE, now);
      if (typeof payload.sub !== 'string' || typeof payload.fam !== 'string' || typeof payload.jti !== 'string') {
        throw new UnauthorizedError('Token is invalid.');
      }
      return { userId: payload.sub, familyId: payload.fam, tokenId: payload.jti };
    },
  };
}
