import type { DocumentFilter, FindOptions, ReadModelDocument, RecordedEvent } from '../adapters/ports.js';

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

/** What a many-document projection may read while it projects an event (any collection). */
export interface ProjectionReader {
  get<T extends ReadModelDocument = ReadModelDocument>(collection: string, id: string): Promise<T | null>;
  find<T extends ReadModelDocument = ReadModelDocument>(
    collection: string,
    filter: DocumentFilter,
    options?: FindOptions,
  ): Promise<T[]>;
}

/** One document a many-document projection writes (null deletes it). */
export interface ProjectionWrite {
  readonly collection: string;
  readonly id: string;
  readonly doc: Record<string, unknown> | null;
}

/**
 * A read model where one event touches many documents (a scan's completion fixes
 * every finding it no longer saw). `project` reads what it needs and returns the
 * writes; the runner applies each with the event's position as its guard, so a
 * replay after a crash half-way skips the documents already written. `project`
 * must decide each document from that document and the event alone (plus
 * documents of other projections that came before), never from a document it
 * writes for the same event.
 */
export interface ManyDocumentProjection {
  readonly name: string;
  /** The collections it writes (reset on a rebuild). */
  readonly collections: readonly string[];
  canHandle(event: RecordedEvent): boolean;
  project(event: RecordedEvent, reader: ProjectionReader): Promise<readonly ProjectionWrite[]>;
}

export type AnyProjection = Projection | ManyDocumentProjection;

export function isManyDocument(projection: AnyProjection): projection is ManyDocumentProjection {
  return 'project' in projection;
}

export function handlesTypes(types: readonly string[]): (event: RecordedEvent) => boolean {
  const set = new Set(types);
  return (event) => set.has(event.type);
}
