import type { ReadModelDocument, RecordedEvent } from '../adapters/ports.js';

/** Fields a projection writes: everything but the key and the position guard. */
export type DocumentBody<Doc extends ReadModelDocument> = {
  [K in keyof Doc as string extends K ? never : K extends '_id' | '_position' ? never : K]: Doc[K];
};

/**
 * One read model built from events. `evolve` is pure: from the current
 * document (null if none) and an event to the next document (null deletes it).
 */
export interface Projection<Doc extends ReadModelDocument = ReadModelDocument> {
  readonly name: string;
  readonly collection: string;
  canHandle(event: RecordedEvent): boolean;
  /** The document an event belongs to. */
  documentId(event: RecordedEvent): string;
  evolve(doc: Doc | null, event: RecordedEvent): DocumentBody<Doc> | null;
}

export function handlesTypes(types: readonly string[]): (event: RecordedEvent) => boolean {
  const set = new Set(types);
  return (event) => set.has(event.type);
}
