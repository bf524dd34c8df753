import { scanUpcasters } from './scans/scan.upcasters.js';
import { eventVersions } from './shared/upcasting.js';

/** Every event type's current schema version and the upcasters from older ones. */
export const EVENT_VERSIONS = eventVersions([...scanUpcasters]);
