/**
 * Reading a scan's stream for a report: page by page (an event stays under 1 MiB, a
 * page under READ_PAGE of them), folding the model and hashing the digest as the
 * events go by, then reading the counted batches again to stream their findings.
 * Memory stays bounded by a page, whatever the number of findings.
 */
import type { EventStore, RecordedEvent } from '../adapters/ports.js';
import { streams } from '../commands/deps.js';
import type { Finding } from '../domain/shared/finding.js';
import { eventsDigest } from './reportDigest.js';
import { countedFindings, evolveReport, initialReportState, reportOf, type ReportModel } from './reportModel.js';

/** Events read at once: a batch is at most ~300 KB of JSON, so a page stays around a megabyte. */
export const READ_PAGE = 4;

/** What a report states it was built from. */
export interface ReportSource {
  /** The scan stream ("scan-<id>"). */
  readonly stream: string;
  /** The revision of its last event the report covers (events 0 … lastRevision). */
  readonly lastRevision: number;
  readonly eventCount: number;
  /** SHA-256 of the canonical JSON of those events (reports/reportDigest.ts). */
  readonly digest: string;
}

/** The stream's events from `from` to `to` (inclusive; default: the end), a page at a time. */
export async function* streamEvents(
  store: EventStore,
  stream: string,
  range: { readonly from?: number; readonly to?: number } = {},
): AsyncGenerator<RecordedEvent> {
  let next = range.from ?? 0;
  const to = range.to ?? Number.POSITIVE_INFINITY;
  while (next <= to) {
    const page = await store.readStream(stream, { fromRevision: next, maxCount: READ_PAGE });
    for (const event of page) {
      if (event.revision > to) return;
      yield event;
    }
    if (page.length < READ_PAGE) return;
    next = page[page.length - 1]!.revision + 1;
  }
}

/** The owner of a scan, from its first event (undefined: no such scan). */
export async function scanOwner(store: EventStore, scanId: string): Promise<string | undefined> {
  const [first] = await store.readStream(streams.scan(scanId), { maxCount: 1 });
  return first?.type === 'ScanRequested' ? String(first.data.userId) : undefined;
}

/** The report model and its source (stream, revision, digest), in one pass over the stream. */
export async function loadReport(
  store: EventStore,
  scanId: string,
): Promise<{ readonly model: ReportModel; readonly source: ReportSource }> {
  const stream = streams.scan(scanId);
  const digest = eventsDigest();
  let state = initialReportState(stream);
  for await (const event of streamEvents(store, stream)) {
    digest.add(event);
    state = evolveReport(state, event);
  }
  const model = reportOf(state);
  return {
    model,
    source: { stream, lastRevision: model.lastRevision, eventCount: digest.count, digest: digest.current() },
  };
}

/** The report's findings, in the order the scanner reported them, read batch by batch. */
export async function* reportFindings(store: EventStore, model: ReportModel): AsyncGenerator<Finding> {
  if (model.batches.length === 0) return;
  const from = model.batches[0]!.revision;
  const to = model.batches[model.batches.length - 1]!.revision;
  for await (const event of streamEvents(store, model.stream, { from, to })) {
    yield* countedFindings(model, event);
  }
}

export interface DigestCheck {
  /** The digest matches the stream's events 0 … `revision` as the store holds them now. */
  readonly matches: boolean;
  /** The revision the digest covers when it matches (null otherwise). */
  readonly revision: number | null;
  /** The stream's last revision now, and that whole stream's digest. */
  readonly lastRevision: number;
  readonly currentDigest: string;
}

/**
 * Whether `digest` is the digest of the stream's events from revision 0 to some
 * revision, as the store holds them now. A report of a completed scan covers the whole
 * stream; checking every prefix also recognises a report whose stream has grown since.
 */
export async function checkDigest(store: EventStore, scanId: string, digest: string): Promise<DigestCheck> {
  const hash = eventsDigest();
  let revision: number | null = null;
  let lastRevision = -1;
  for await (const event of streamEvents(store, streams.scan(scanId))) {
    hash.add(event);
    lastRevision = event.revision;
    if (revision === null && hash.current() === digest) revision = event.revision;
  }
  return { matches: revision !== null, revision, lastRevision, currentDigest: hash.current() };
}
