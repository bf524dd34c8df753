import { describe, expect, it } from 'vitest';
import { nucleiTemplateDecider } from '../../../domain/templates/nucleiTemplate.decider.js';
import type { NucleiTemplateEvent, TemplateLibraryEvent } from '../../../domain/templates/nucleiTemplate.events.js';
import { templateLibraryDecider } from '../../../domain/templates/templateLibrary.decider.js';
import { deciderSpec } from '../../support/deciderSpec.js';

const T = 'template-1';
const OWNER = 'user-1';
const OTHER = 'user-2';
const AT = '2026-11-10T12:00:00.000Z';
const LATER = '2026-11-11T08:30:00.000Z';

describe('nuclei template decider', () => {
  const spec = deciderSpec(nucleiTemplateDecider);
  const upload = {
    type: 'UploadNucleiTemplate' as const,
    templateId: T,
    userId: OWNER,
    nucleiTemplateId: 'my-check',
    name: 'My check',
    severity: 'high',
    tags: ['custom'],
    yaml: 'id: my-check\n',
    sha256: 'abc',
    sizeBytes: 13,
    requestCount: 1,
    now: AT,
  };
  const uploaded: NucleiTemplateEvent = {
    type: 'NucleiTemplateUploaded',
    data: {
      templateId: T,
      userId: OWNER,
      nucleiTemplateId: 'my-check',
      name: 'My check',
      severity: 'high',
      tags: ['custom'],
      yaml: 'id: my-check\n',
      sha256: 'abc',
      sizeBytes: 13,
      requestCount: 1,
      uploadedAt: AT,
    },
  };
  const removed: NucleiTemplateEvent = {
    type: 'NucleiTemplateRemoved',
    data: { templateId: T, userId: OWNER, removedAt: LATER },
  };

  it('uploads a new template', () => {
    spec.given([]).when(upload).then([uploaded]);
  });

  it('never reuses a template id, even once removed', () => {
    spec.given([uploaded]).when(upload).thenThrows('template_exists');
    spec.given([uploaded, removed]).when(upload).thenThrows('template_exists');
  });

  it('removes the owner’s template', () => {
    spec.given([uploaded]).when({ type: 'RemoveNucleiTemplate', userId: OWNER, now: LATER }).then([removed]);
  });

  it('another user, an unknown or a removed template: not found', () => {
    spec.given([uploaded]).when({ type: 'RemoveNucleiTemplate', userId: OTHER, now: LATER }).thenThrows('not_found');
    spec.given([]).when({ type: 'RemoveNucleiTemplate', userId: OWNER, now: LATER }).thenThrows('not_found');
    spec
      .given([uploaded, removed])
      .when({ type: 'RemoveNucleiTemplate', userId: OWNER, now: LATER })
      .thenThrows('not_found');
  });
});

describe('template library decider (count limit and unique ids per account)', () => {
  const spec = deciderSpec(templateLibraryDecider);
  const taken = (templateId: string, nucleiTemplateId: string): TemplateLibraryEvent => ({
    type: 'NucleiTemplateSlotTaken',
    data: { userId: OWNER, templateId, nucleiTemplateId, takenAt: AT },
  });
  const released = (templateId: string): TemplateLibraryEvent => ({
    type: 'NucleiTemplateSlotReleased',
    data: { userId: OWNER, templateId, releasedAt: LATER },
  });
  const take = (templateId: string, nucleiTemplateId: string, limit: number | null = 2) => ({
    type: 'TakeTemplateSlot' as const,
    userId: OWNER,
    templateId,
    nucleiTemplateId,
    limit,
    now: AT,
  });

  it('takes a slot while under the limit', () => {
    spec
      .given([taken('a', 'check-a')])
      .when(take('b', 'check-b'))
      .then([taken('b', 'check-b')]);
  });

  it('refuses at the limit, with the figures', () => {
    spec
      .given([taken('a', 'check-a'), taken('b', 'check-b')])
      .when(take('c', 'check-c'))
      .thenThrows('template_limit_reached', { limit: 2, count: 2, upgrade_url: '/pricing/' });
  });

  it('a released slot can be taken again; null means unlimited', () => {
    spec
      .given([taken('a', 'check-a'), taken('b', 'check-b'), released('a')])
      .when(take('c', 'check-c'))
      .then([taken('c', 'check-c')]);
    spec
      .given([taken('a', 'check-a'), taken('b', 'check-b')])
      .when(take('c', 'check-c', null))
      .then([taken('c', 'check-c')]);
  });

  it('refuses a second template with the same id', () => {
    spec
      .given([taken('a', 'check-a')])
      .when(take('b', 'check-a'))
      .thenThrows('template_id_taken');
    spec
      .given([taken('a', 'check-a'), released('a')])
      .when(take('b', 'check-a'))
      .then([taken('b', 'check-a')]);
  });

  it('taking or releasing twice changes nothing', () => {
    spec
      .given([taken('a', 'check-a')])
      .when(take('a', 'check-a'))
      .then([]);
    spec.given([]).when({ type: 'ReleaseTemplateSlot', userId: OWNER, templateId: 'a', now: LATER }).then([]);
    spec
      .given([taken('a', 'check-a')])
      .when({ type: 'ReleaseTemplateSlot', userId: OWNER, templateId: 'a', now: LATER })
      .then([released('a')]);
  });

  it('state lists the held slots', () => {
    const state = spec.given([taken('a', 'check-a'), taken('b', 'check-b'), released('a')]).state;
    expect([...state.slots.keys()]).toEqual(['b']);
  });
});
