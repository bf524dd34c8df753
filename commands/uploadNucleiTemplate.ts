import { createHash } from 'node:crypto';
import { PLANS } from '../domain/accounts/plans.js';
import { DomainError } from '../domain/shared/decider.js';
import { nucleiTemplateDecider } from '../domain/templates/nucleiTemplate.decider.js';
import { NucleiTemplateEvent } from '../domain/templates/nucleiTemplate.events.js';
import { parseTemplate, TemplateError, type TemplateIssue } from '../scanners/nuclei/templateParser.js';
import { loadAccount } from './accountStreams.js';
import { streams, type CommandDeps } from './deps.js';
import { handleCommand } from './handleCommand.js';
import { reclaimOrphanTemplateSlots, releaseTemplateSlot, takeTemplateSlot } from './nucleiTemplateSlots.js';

const describeIssue = (issue: TemplateIssue) =>
  `${issue.line ? `line ${issue.line}: ` : ''}${issue.path ? `${issue.path}: ` : ''}${issue.message}`;

/**
 * Uploads one of the user's own nuclei templates: checks the plan's size limit,
 * loads it with the engine (bad YAML or anything outside the supported subset is
 * a 400 naming the line and key), takes a slot in the account's template library
 * (the plan's count limit; the template's `id:` unique per account), then appends
 * NucleiTemplateUploaded to a new `template-<id>` stream. Answers once the read
 * model shows it.
 */
export async function uploadNucleiTemplate(
  deps: CommandDeps,
  userId: string,
  yaml: string,
): Promise<{ templateId: string; uploadedAt: string }> {
  const { state: account } = await loadAccount(deps, userId);
  if (account.status !== 'open') throw new DomainError('Account not found.', 'account_not_found', 'not_found');
  const plan = PLANS[account.plan];
  const sizeBytes = Buffer.byteLength(yaml);
  if (sizeBytes > plan.nucleiTemplateMaxBytes) {
    const message = `The template is ${sizeBytes} bytes; your ${plan.name} plan allows templates of at most ${plan.nucleiTemplateMaxBytes} bytes.`;
    throw new DomainError(message, 'template_too_large', 'invalid', {
      fields: { template: [message] },
      max_template_bytes: plan.nucleiTemplateMaxBytes,
    });
  }
  let template;
  try {
    template = parseTemplate(yaml, { maxBytes: plan.nucleiTemplateMaxBytes });
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    throw new DomainError(`The template cannot be used: ${error.message}`, 'invalid_template', 'invalid', {
      fields: { template: error.issues.map(describeIssue) },
      issues: error.issues,
    });
  }

  const templateId = deps.ids.uuid();
  const clock = deps.clock.now();
  const now = clock.toISOString();
  const slot = {
    userId,
    templateId,
    nucleiTemplateId: template.id,
    limit: plan.nucleiTemplatesLimit,
    now,
  };
  try {
    await takeTemplateSlot(deps, slot);
  } catch (error) {
    if (!(error instanceof DomainError && error.code === 'template_limit_reached')) throw error;
    if ((await reclaimOrphanTemplateSlots(deps, userId, clock)) === 0) throw error;
    await takeTemplateSlot(deps, slot);
  }

  let position: number | undefined;
  try {
    const uploaded = await handleCommand(
      deps,
      streams.template(templateId),
      nucleiTemplateDecider,
      NucleiTemplateEvent,
      {
        type: 'UploadNucleiTemplate',
        templateId,
        userId,
        nucleiTemplateId: template.id,
        name: template.info.name,
        severity: template.info.severity,
        tags: template.info.tags,
        yaml,
        sha256: createHash('sha256').update(yaml).digest('hex'),
        sizeBytes,
        requestCount: template.requestCount,
        now,
      },
    );
    position = uploaded.position;
  } catch (error) {
    await releaseTemplateSlot(deps, userId, templateId, deps.clock.now().toISOString()).catch(() => undefined);
    throw error;
  }
  if (position !== undefined) await deps.readModelsAt(position);
  return { templateId, uploadedAt: now };
}
