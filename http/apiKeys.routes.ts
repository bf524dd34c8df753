import { Hono } from 'hono';
import { z } from 'zod';
import { createApiKey } from '../commands/createApiKey.js';
import { revokeApiKey } from '../commands/revokeApiKey.js';
import type { ApiKeyDocument } from '../projections/apiKeys.projection.js';
import { requireSession, requireUser } from './authenticate.js';
import type { AppDeps, AppEnv } from './deps.js';
import { noStore, notFound } from './errors.js';
import { jsonBody, pathId } from './validation.js';
import { displayName } from './validators.js';

export const CreateKeyBody = z.object({ name: displayName(100) }).strict();

const keyView = (doc: ApiKeyDocument) => ({
  id: doc._id,
  name: doc.name,
  prefix: doc.prefix,
  created_at: doc.created_at,
  revoked_at: doc.revoked_at,
  active: doc.revoked_at === null,
});

/** API keys: created with a name, shown once, usable as `Authorization: Bearer <key>`. */
export function apiKeysRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const keys = deps.readModels.collection<ApiKeyDocument>('api_keys');
  app.use('/api-keys/*', noStore);
  app.use('/api-keys', noStore);

  app.get('/api-keys', async (c) => {
    const { userId } = requireUser(c);
    const docs = await keys.find({ user_id: userId }, { sort: { created_at: -1 } });
    return c.json({ count: docs.length, results: docs.map(keyView) });
  });

  app.post('/api-keys', async (c) => {
    const { userId } = requireSession(c);
    const { name } = await jsonBody(c, CreateKeyBody);
    const created = await createApiKey(deps, userId, name);
    return c.json(
      {
        id: created.keyId,
        name,
        prefix: created.prefix,
        key: created.key,
        created_at: created.createdAt,
        message: 'Store this key now: it is shown only once.',
      },
      201,
    );
  });

  app.delete('/api-keys/:id', async (c) => {
    const { userId } = requireUser(c);
    const id = pathId(c);
    const doc = await keys.get(id);
    if (!doc || doc.user_id !== userId || doc.revoked_at !== null) throw notFound();
    const revokedAt = await revokeApiKey(deps, userId, id);
    return c.json({ ...keyView(doc), revoked_at: revokedAt, active: false });
  });

  return app;
}
