import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { removeNucleiTemplate } from '../commands/removeNucleiTemplate.js';
import { uploadNucleiTemplate } from '../commands/uploadNucleiTemplate.js';
import { PLANS } from '../domain/accounts/plans.js';
import { NUCLEI_TEMPLATES_COLLECTION, type NucleiTemplateDocument } from '../projections/nucleiTemplates.projection.js';
import type { ProfileDocument } from '../projections/profiles.projection.js';
import { requireUser } from './authenticate.js';
import type { AppDeps, AppEnv } from './deps.js';
import { ApiError, notFound } from './errors.js';
import { jsonBody, pathId } from './validation.js';

/** Content types of a YAML body (the template itself, not wrapped in JSON). */
const YAML_TYPES = /^(application\/(x-)?yaml|text\/(x-)?yaml)\b/i;

export const UploadBody = z
  .object({ template: z.string({ error: 'The template YAML, as a string.' }).min(1, 'This field may not be blank.') })
  .strict();

/** A template in lists (without its YAML). */
function summaryView(doc: NucleiTemplateDocument) {
  return {
    id: doc._id,
    template_id: doc.template_id,
    name: doc.name,
    severity: doc.severity,
    tags: doc.tags,
    rule_id: `nuclei.user.${doc.template_id}`,
    requests: doc.request_count,
    size_bytes: doc.size_bytes,
    sha256: doc.sha256,
    created_at: doc.created_at,
  };
}

const fullView = (doc: NucleiTemplateDocument) => ({ ...summaryView(doc), yaml: doc.yaml });

/**
 * A user's own nuclei templates: `POST /nuclei/templates/` (JSON `{"template":
 * "<yaml>"}` or the YAML itself with Content-Type application/x-yaml, application/yaml
 * or text/yaml), `GET /nuclei/templates/`, `GET` and `DELETE /nuclei/templates/{id}/`.
 * Run them with `scan_config.templates: [ids]` on a nuclei scan. Another user's
 * template is a 404.
 */
export function nucleiTemplatesRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const templates = deps.readModels.collection<NucleiTemplateDocument>(NUCLEI_TEMPLATES_COLLECTION);

  async function ownTemplate(c: Context<AppEnv>, userId: string): Promise<NucleiTemplateDocument> {
    const doc = await templates.get(pathId(c));
    if (!doc || doc.user_id !== userId) throw notFound('Template not found.');
    return doc;
  }

  async function planOf(userId: string) {
    const profile = await deps.readModels.collection<ProfileDocument>('profiles').get(userId);
    return PLANS[profile?.plan ?? 'free'];
  }

  app.post('/nuclei/templates', async (c) => {
    const { userId } = requireUser(c);
    let yaml: string;
    if (YAML_TYPES.test(c.req.header('content-type') ?? '')) {
      yaml = await c.req.text();
      if (yaml.trim() === '') {
        throw new ApiError(400, 'Send the template YAML as the body.', 'validation_error', {
          fields: { template: ['This field may not be blank.'] },
        });
      }
    } else if (/^application\/(.+\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
      yaml = (await jsonBody(c, UploadBody)).template;
    } else {
      throw new ApiError(
        415,
        'Send the template as YAML (Content-Type: application/x-yaml) or as JSON {"template": "<yaml>"}.',
        'unsupported_media_type',
      );
    }
    const { templateId } = await uploadNucleiTemplate(deps, userId, yaml);
    const doc = await templates.get(templateId);
    if (!doc) throw notFound('Template not found (it was deleted meanwhile).');
    return c.json(fullView(doc), 201);
  });

  app.get('/nuclei/templates', async (c) => {
    const { userId } = requireUser(c);
    const [docs, plan] = await Promise.all([
      templates.find({ user_id: userId }, { sort: { created_at: -1, uploaded_position: -1 } }),
      planOf(userId),
    ]);
    return c.json({
      count: docs.length,
      limit: plan.nucleiTemplatesLimit,
      max_template_bytes: plan.nucleiTemplateMaxBytes,
      results: docs.map(summaryView),
    });
  });

  app.get('/nuclei/templates/:id', async (c) => {
    const { userId } = requireUser(c);
    return c.json(fullView(await ownTemplate(c, userId)));
  });

  app.delete('/nuclei/templates/:id', async (c) => {
    const { userId } = requireUser(c);
    const templateId = pathId(c);
    await removeNucleiTemplate(deps, userId, templateId);
    return c.json({ id: templateId, deleted: true });
  });

  return app;
}
