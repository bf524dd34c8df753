import { z } from 'zod';
import type { DocumentFilter, FindOptions, ReadModelCollection, ReadModelDocument } from '../adapters/ports.js';

/** `page` (from 1) and `page_size` (1-100, default 20) query parameters. */
export const pageParams = {
  page: z.coerce.number().int().min(1).default(1),
  page_size: z.coerce.number().int().min(1).max(100).default(20),
};

export interface Page<T> {
  readonly count: number;
  readonly page: number;
  readonly page_size: number;
  readonly next: string | null;
  readonly previous: string | null;
  readonly results: T[];
}

/** One page of a collection, with links to the next and previous pages (the query kept). */
export async function pageOf<Doc extends ReadModelDocument, View>(
  collection: ReadModelCollection<Doc>,
  filter: DocumentFilter,
  sort: NonNullable<FindOptions['sort']>,
  query: Record<string, unknown> & { page: number; page_size: number },
  path: string,
  view: (doc: Doc) => View,
): Promise<Page<View>> {
  const [count, docs] = await Promise.all([
    collection.count(filter),
    collection.find(filter, { sort, skip: (query.page - 1) * query.page_size, limit: query.page_size }),
  ]);
  const link = (page: number) => {
    const params = new URLSearchParams(
      Object.entries({ ...query, page: String(page), page_size: String(query.page_size) })
        .filter(([, v]) => v !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    );
    return `/api/v1${path}?${params.toString()}`;
  };
  return {
    count,
    page: query.page,
    page_size: query.page_size,
    next: query.page * query.page_size < count ? link(query.page + 1) : null,
    previous: query.page > 1 ? link(query.page - 1) : null,
    results: docs.map(view),
  };
}
