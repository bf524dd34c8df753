import { z } from 'zod';

/** What the document says about a schema beyond its type. */
export interface SchemaDoc {
  /** Named in `components.schemas` (and referenced from wherever it is used). */
  readonly id?: string;
  readonly description?: string;
}

/**
 * The OpenAPI document's own metadata registry (not zod's global one): names and
 * descriptions of the response schemas. Request schemas are the routes' own and carry
 * no metadata; their fields are described in the operation table.
 */
export const docRegistry = z.registry<SchemaDoc>();

/** A schema the document names: `components.schemas.<id>`. */
export function named<Schema extends z.ZodType>(id: string, schema: Schema, description?: string): Schema {
  docRegistry.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
}

/** A field with a description (pass a schema instance of its own: the description belongs to it). */
export function described<Schema extends z.ZodType>(schema: Schema, description: string): Schema {
  docRegistry.add(schema, { description });
  return schema;
}
