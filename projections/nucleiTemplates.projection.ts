import type { ReadModelDocument } from '../adapters/ports.js';
import { NUCLEI_TEMPLATE_EVENT_TYPES, NucleiTemplateEvent } from '../domain/templates/nucleiTemplate.events.js';
import { handlesTypes, type Projection } from './projection.js';

/** The collection (the nuclei plug-in reads it by this name to snapshot templates into a scan). */
export const NUCLEI_TEMPLATES_COLLECTION = 'nuclei_templates';

/**
 * One document per live user template (`_id` = template id); a removed template's
 * document is deleted. Serves GET /nuclei/templates/ and the nuclei plug-in's
 * `prepareConfig` (owner check and YAML snapshot).
 */
export interface NucleiTemplateDocument extends ReadModelDocument {
  user_id: string;
  /** The YAML's own `id:`. */
  template_id: string;
  name: string;
  severity: string;
  tags: string[];
  yaml: string;
  sha256: string;
  size_bytes: number;
  request_count: number;
  created_at: string;
  /** Global position of the upload: breaks created_at ties in lists. */
  uploaded_position: number;
}

export const nucleiTemplatesProjection: Projection<NucleiTemplateDocument> = {
  name: 'nuclei_templates',
  collection: NUCLEI_TEMPLATES_COLLECTION,
  canHandle: handlesTypes(NUCLEI_TEMPLATE_EVENT_TYPES),
  documentId: (event) => String(event.data.templateId),
  evolve(_current, event) {
    const e = NucleiTemplateEvent.parse({ type: event.type, data: event.data });
    switch (e.type) {
      case 'NucleiTemplateUploaded':
        return {
          user_id: e.data.userId,
          template_id: e.data.nucleiTemplateId,
          name: e.data.name,
          severity: e.data.severity,
          tags: e.data.tags,
          yaml: e.data.yaml,
          sha256: e.data.sha256,
          size_bytes: e.data.sizeBytes,
          request_count: e.data.requestCount,
          created_at: e.data.uploadedAt,
          uploaded_position: event.position,
        };
      case 'NucleiTemplateRemoved':
        return null;
    }
  },
};
