/**
 * HTML → PDF with headless Chromium through playwright-core: one browser process
 * for the whole service, launched on the first render (never downloaded: the
 * system's Chromium, SECABLY_CHROMIUM_PATH), and closed when the service stops.
 *
 * - Bounded: at most `concurrency` renders at once, the rest wait in a FIFO queue of
 *   at most `maxQueue`, each for at most `timeoutMs` (beyond either: PdfBusyError, a
 *   503 with Retry-After); each render gets `timeoutMs` (PdfTimeoutError, its page
 *   closed). A request thus waits at most twice the timeout.
 * - Isolated: every render has its own browser context with JavaScript off, offline,
 *   and every request the page would make (images, fonts, styles, frames) aborted:
 *   a report is self-contained HTML and never touches the network.
 * - Resilient: a browser that crashes or disconnects is dropped and the next render
 *   launches a fresh one; a render that failed because its browser died is tried once
 *   more on the new one.
 */
import { accessSync, constants } from 'node:fs';
import type { Browser, BrowserContext } from 'playwright-core';
import type { Logger } from 'pino';
import { SecablyError } from '../adapters/ports.js';

/** Launch flags: headless, no sandbox (containers), nothing that phones home. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

export interface PdfRendererOptions {
  readonly executablePath: string;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** Renders that may wait for a slot (default: 10 per slot); each waits at most `timeoutMs`. */
  readonly maxQueue?: number;
  readonly logger?: Logger;
  /** An extra switch on the browser's command line that names this renderer's process (tests count it). */
  readonly processTag?: string;
}

export interface PdfPageOptions {
  /** HTML of the footer band of every page (Chromium fills .pageNumber and .totalPages). */
  readonly footerTemplate: string;
  /** A tagged (accessible) PDF (default true); tagging makes long documents much larger and slower. */
  readonly tagged?: boolean;
}

export interface PdfRendererStats {
  /** Browser processes launched so far. */
  readonly launches: number;
  readonly running: number;
  readonly queued: number;
  readonly connected: boolean;
}

export interface PdfRenderer {
  render(html: string, page: PdfPageOptions): Promise<Buffer>;
  stats(): PdfRendererStats;
  /** Closes the browser (if launched); renders after this fail. */
  close(): Promise<void>;
}

/** No Chromium to render with: PDF export answers 503. */
export class PdfUnavailableError extends SecablyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'pdf_unavailable');
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** Too many renders waiting already. */
export class PdfBusyError extends SecablyError {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many PDF reports are being rendered; retry shortly.', 'pdf_busy');
  }
}

export class PdfTimeoutError extends SecablyError {
  constructor(readonly timeoutMs: number) {
    super(`The PDF report took longer than ${timeoutMs} ms to render.`, 'pdf_timeout');
  }
}

/** A FIFO semaphore whose waiters give up after a while. */
function slots(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    get running() {
      return size - free;
    },
    get queued() {
      return waiting.length;
    },
    /** Resolves with true once a slot is taken, or false after `waitMs` in the queue. */
    async acquire(waitMs: number): Promise<boolean> {
      if (free > 0) {
        free -= 1;
        return true;
      }
      return new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          const at = waiting.indexOf(wake);
          if (at >= 0) waiting.splice(at, 1);
          resolve(false);
        }, waitMs);
        waiting.push(wake);
      });
    },
    release(): void {
      const next = waiting.shift();
      if (next) next();
      else free += 1;
    },
  };
}

export function pdfRenderer(options: PdfRendererOptions): PdfRenderer {
  const { logger } = options;
  const maxQueue = options.maxQueue ?? options.concurrency * 10;
  const gate = slots(options.concurrency);
  let browser: Promise<Browser> | undefined;
  let current: Browser | undefined;
  let launches = 0;
  let connected = false;
  let closed = false;

  async function launch(): Promise<Browser> {
    try {
      accessSync(options.executablePath, constants.X_OK);
    } catch (error) {
      throw new PdfUnavailableError(`Chromium not found or not executable at ${options.executablePath}`, {
        cause: error,
      });
    }
    const { chromium } = await import('playwright-core');
    launches += 1;
    const started = performance.now();
    const launched = await chromium
      .launch({
        executablePath: options.executablePath,
        headless: true,
        chromiumSandbox: false,
        args: [...CHROMIUM_FLAGS, ...(options.processTag ? [`--secably-process-tag=${options.processTag}`] : [])],
        timeout: 30_000,
        // The service handles its own signals and closes the browser when it stops.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      })
      .catch((error: unknown) => {
        throw new PdfUnavailableError(`Chromium at ${options.executablePath} did not start`, { cause: error });
      });
    connected = true;
    logger?.info({ ms: Math.round(performance.now() - started), version: launched.version() }, 'pdf browser launched');
    launched.on('disconnected', () => {
      connected = false;
      if (!closed) logger?.warn('pdf browser disconnected; the next render starts a new one');
      if (browser && current === launched) browser = undefined;
    });
    current = launched;
    return launched;
  }

  function getBrowser(): Promise<Browser> {
    if (closed) return Promise.reject(new PdfUnavailableError('the PDF renderer is closed'));
    if (!browser) {
      browser = launch();
      browser.catch(() => {
        browser = undefined; // the next render tries again (Chromium may have been installed since)
      });
    }
    return browser;
  }

  async function renderOnce(html: string, page: PdfPageOptions): Promise<Buffer> {
    const instance = await getBrowser();
    let context: BrowserContext | undefined;
    let timer: NodeJS.Timeout | undefined;
    const work = (async () => {
      context = await instance.newContext({ javaScriptEnabled: false, offline: true });
      await context.route('**/*', (route) => route.abort('blockedbyclient'));
      const tab = await context.newPage();
      await tab.setContent(html, { waitUntil: 'load', timeout: options.timeoutMs });
      return tab.pdf({
        format: 'A4',
        printBackground: true,
        preferCSSPageSize: true,
        displayHeaderFooter: true,
        headerTemplate: '<span></span>',
        footerTemplate: page.footerTemplate,
        tagged: page.tagged ?? true,
        outline: true,
      });
    })();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PdfTimeoutError(options.timeoutMs)), options.timeoutMs);
    });
    const closeContext = () => (context as BrowserContext | undefined)?.close().catch(() => undefined);
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      // On a timeout the page may still be opening: close its context now and once it settles.
      void work.then(closeContext, closeContext);
      await closeContext();
    }
  }

  return {
    async render(html, page) {
      if (closed) throw new PdfUnavailableError('the PDF renderer is closed');
      const retryAfter = Math.max(1, Math.ceil(options.timeoutMs / 1000));
      if (gate.running >= options.concurrency && gate.queued >= maxQueue) throw new PdfBusyError(retryAfter);
      // A render waits in the queue at most as long as one render may take.
      if (!(await gate.acquire(options.timeoutMs))) throw new PdfBusyError(retryAfter);
      try {
        try {
          return await renderOnce(html, page);
        } catch (error) {
          if (error instanceof SecablyError || closed || connected) throw error;
          // The browser died under this render: once more on a fresh one.
          logger?.warn({ err: error }, 'pdf render failed with its browser; retrying on a new browser');
          return await renderOnce(html, page);
        }
      } finally {
        gate.release();
      }
    },
    stats: () => ({ launches, running: gate.running, queued: gate.queued, connected }),
    async close() {
      closed = true;
      const pending = browser;
      browser = undefined;
      const instance = await pending?.catch(() => undefined);
      await instance?.close().catch(() => undefined);
    },
  };
}
