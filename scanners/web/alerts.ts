import type { ZapConfidence, ZapRisk } from './zapRules.js';

/** One occurrence of an alert, as a rule raises it (ZAP's "instance"). */
export interface RaisedAlert {
  /** `pluginId` or `pluginId-n` (see zapRules.ts). */
  readonly alertRef: string;
  /** The absolute URL (named by the target's host name, never an address), query included. */
  readonly uri: string;
  readonly method: string;
  /** ZAP's `param`: the header, cookie or parameter concerned. */
  readonly param?: string;
  /** The value sent (active checks). */
  readonly attack?: string;
  /** The bit of the response that shows it. */
  readonly evidence?: string;
  readonly otherinfo?: string;
  /** ZAP's name for this variant when it differs from the rule's (e.g. mixed content including scripts). */
  readonly name?: string;
  /** Overrides the definition's risk / confidence for this instance (e.g. a 500 status is Low). */
  readonly risk?: ZapRisk;
  readonly confidence?: ZapConfidence;
  /**
   * The parameter this instance is about, for page-scoped rules raised by an active
   * check (an error page caused by a payload in `q`): the finding's location gets `?q`.
   */
  readonly locationParam?: string;
  /** What proved it (active checks): the request sent and an excerpt of the answer. */
  readonly proof?: { readonly request: string; readonly response: string };
}

export type RaiseAlert = (alert: RaisedAlert) => void;
