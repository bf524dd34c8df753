import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { UnauthorizedError } from '../adapters/ports.js';
import { changePassword } from '../commands/changePassword.js';
import { login } from '../commands/login.js';
import { refreshSession } from '../commands/refreshSession.js';
import { registerUser } from '../commands/registerUser.js';
import { PLANS } from '../domain/accounts/plans.js';
import { requireSession } from './authenticate.js';
import type { AppDeps, AppEnv } from './deps.js';
import { ApiError, noStore } from './errors.js';
import { loginThrottle } from './loginThrottle.js';
import { passwordWeakness } from './passwordStrength.js';
import { jsonBody } from './validation.js';
import { email, password, personName } from './validators.js';

export const RegisterBody = z
  .object({
    email,
    first_name: personName,
    last_name: personName,
    password,
    password_confirm: z.string({ error: 'Confirm the password.' }),
  })
  .superRefine((body, ctx) => {
    if (body.password !== body.password_confirm) {
      ctx.addIssue({ code: 'custom', path: ['password_confirm'], message: 'The two passwords do not match.' });
    }
    const local = body.email.split('@')[0]?.toLowerCase() ?? '';
    if (local.length >= 4 && body.password.toLowerCase().includes(local)) {
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message: 'The password must not contain your email address.',
      });
      return;
    }
    const weakness = passwordWeakness(body.password, [body.email, body.first_name, body.last_name]);
    if (weakness) ctx.addIssue({ code: 'custom', path: ['password'], message: weakness });
  });

export const LoginBody = z.object({
  email: z.string({ error: 'An email address is required.' }).trim().min(1).max(254),
  password: z.string({ error: 'A password is required.' }).min(1).max(1024),
});

export const RefreshBody = z.object({
  refresh: z.string({ error: 'The refresh token is required.' }).min(1).max(4096),
});

export const ChangePasswordBody = z
  .object({
    old_password: z.string({ error: 'The current password is required.' }).min(1).max(1024),
    new_password: password,
    new_password_confirm: z.string({ error: 'Confirm the new password.' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.new_password !== body.new_password_confirm) {
      ctx.addIssue({ code: 'custom', path: ['new_password_confirm'], message: 'The two passwords do not match.' });
    }
    if (body.new_password === body.old_password) {
      ctx.addIssue({
        code: 'custom',
        path: ['new_password'],
        message: 'The new password must differ from the current one.',
      });
    }
  });

export function authRoutes(
  deps: AppDeps,
  limits: { registration: MiddlewareHandler<AppEnv>; login: MiddlewareHandler<AppEnv> },
) {
  const app = new Hono<AppEnv>();
  const { registration, login: loginLimit } = limits;
  app.use('*', noStore);
  const throttle = loginThrottle(deps);

  app.post('/register', registration, async (c) => {
    const body = await jsonBody(c, RegisterBody);
    const result = await registerUser(deps, {
      email: body.email,
      firstName: body.first_name,
      lastName: body.last_name,
      password: body.password,
    });
    const plan = PLANS.free;
    return c.json(
      {
        message: 'Registration successful.',
        user: {
          id: result.userId,
          email: body.email.toLowerCase(),
          first_name: body.first_name,
          last_name: body.last_name,
          date_joined: result.registeredAt,
          subscription_type: plan.id,
        },
        ...result.tokens,
      },
      201,
    );
  });

  app.post('/login', loginLimit, async (c) => {
    const body = await jsonBody(c, LoginBody);
    const attempt = await throttle.attempt(body.email, c.get('clientIp'));
    const { userId, tokens } = await login(deps, body).catch(async (error: unknown) => {
      if (error instanceof UnauthorizedError) await attempt.failed();
      throw error;
    });
    await attempt.succeeded();
    const profile = await deps.readModels.collection('profiles').get(userId);
    const plan = PLANS[(profile?.plan as keyof typeof PLANS | undefined) ?? 'free'];
    return c.json({
      ...tokens,
      user: {
        user_email: profile?.email ?? body.email.toLowerCase(),
        subscription_type: plan.id,
        sites_limit: plan.targetsLimit,
        scans_per_month: plan.scanCreditsPerMonth,
      },
    });
  });

  app.post('/refresh', async (c) => {
    const body = await jsonBody(c, RefreshBody);
    return c.json(await refreshSession(deps, body.refresh));
  });

  app.post('/change-password', async (c) => {
    const user = requireSession(c);
    const body = await jsonBody(c, ChangePasswordBody);
    const { email, first_name, last_name } = user.profile;
    const weakness = passwordWeakness(body.new_password, [email, first_name, last_name]);
    if (weakness) {
      throw new ApiError(400, 'Invalid input.', 'validation_error', { fields: { new_password: [weakness] } });
    }
    const { tokens, revokedApiKeys } = await changePassword(deps, user.userId, {
      oldPassword: body.old_password,
      newPassword: body.new_password,
    });
    const keys = revokedApiKeys.length;
    return c.json({
      message:
        'Password changed. Every other session has been signed out' +
        (keys > 0 ? ` and your ${keys} API key${keys === 1 ? ' was' : 's were'} revoked; create new ones.` : '.'),
      ...tokens,
      revoked_api_keys: revokedApiKeys,
    });
  });

  return app;
}
