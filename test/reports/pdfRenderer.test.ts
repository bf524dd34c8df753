/**
 * The PDF renderer: one Chromium process reused, renders bounded in concurrency
 * (queued beyond it, refused past the queue) and in time, nothing fetched from the
 * network, no JavaScript, a crashed browser replaced.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PdfBusyError,
  pdfRenderer,
  PdfTimeoutError,
  PdfUnavailableError,
  type PdfRenderer,
} from '../../reports/pdfRenderer.js';
import { waitFor } from '../support/waitFor.js';
import { browserProcesses, CHROMIUM, pdfText, pdfToolsMissing } from './chromium.js';

const FOOTER = { footerTemplate: '<div style="font-size:8px">page <span class="pageNumber"></span></div>' };

const open: PdfRenderer[] = [];
function renderer(options: Partial<Parameters<typeof pdfRenderer>[0]> = {}) {
  const tag = randomUUID();
  const made = pdfRenderer({
    executablePath: CHROMIUM,
    concurrency: 2,
    timeoutMs: 60_000,
    processTag: tag,
    ...options,
  });
  open.push(made);
  return { renderer: made, tag };
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

describe('without Chromium', () => {
  it('refuses to render with PdfUnavailableError (and launches nothing)', async () => {
    const { renderer: missing } = renderer({ executablePath: '/nonexistent/chromium' });
    await expect(missing.render('<p>x</p>', FOOTER)).rejects.toBeInstanceOf(PdfUnavailableError);
    expect(missing.stats().launches).toBe(0);
  });
});

describe.skipIf(pdfToolsMissing)('the PDF renderer', () => {
  it('starts its browser on the first render, not before, and reuses it', async () => {
    const { renderer: pdf, tag } = renderer();
    expect(pdf.stats()).toMatchObject({ launches: 0, connected: false });
    expect(browserProcesses(tag)).toEqual([]);
    const first = await pdf.render('<h1>First</h1>', FOOTER);
    const second = await pdf.render('<h1>Second</h1>', FOOTER);
    expect(first.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfText(second)).toContain('Second');
    expect(pdf.stats()).toMatchObject({ launches: 1, connected: true, running: 0, queued: 0 });
    expect(browserProcesses(tag)).toHaveLength(1);
  });

  it('renders 5 at once with one browser, 2 at a time, the rest queued', async () => {
    const { renderer: pdf, tag } = renderer({ concurrency: 2 });
    const renders = Array.from({ length: 5 }, (_, i) => pdf.render(`<h1>Report ${i}</h1>`, FOOTER));
    expect(pdf.stats()).toMatchObject({ running: 2, queued: 3 });
    const pdfs = await Promise.all(renders);
    pdfs.forEach((bytes, i) => expect(pdfText(bytes)).toContain(`Report ${i}`));
    expect(pdf.stats()).toMatchObject({ launches: 1, running: 0, queued: 0 });
    expect(browserProcesses(tag)).toHaveLength(1);
  });

  it('refuses a render when the queue is full', async () => {
    const { renderer: pdf } = renderer({ concurrency: 1, maxQueue: 0 });
    const first = pdf.render('<p>one</p>', FOOTER);
    await expect(pdf.render('<p>two</p>', FOOTER)).rejects.toBeInstanceOf(PdfBusyError);
    await first;
  });

  it('never lets the page reach the network, and runs no JavaScript', async () => {
    const hits: string[] = [];
    const server = createServer((request, response) => {
      hits.push(request.url ?? '');
      response.end('x');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const html = `<!doctype html><html><head>
        <link rel="stylesheet" href="${base}/style.css"><style>@import url("${base}/import.css");
        body { background: url("${base}/bg.png"); } @font-face { font-family: X; src: url("${base}/font.woff"); }</style>
        </head><body><p style="font-family: X">text</p><img src="${base}/img.png"><iframe src="${base}/frame"></iframe>
        <script src="${base}/script.js"></script><script>document.body.insertAdjacentText('beforeend', 'JS RAN');</script>
        </body></html>`;
      const { renderer: pdf } = renderer();
      const text = pdfText(await pdf.render(html, FOOTER));
      expect(text).toContain('text');
      expect(text).not.toContain('JS RAN');
      expect(hits).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('replaces a browser that died', async () => {
    const { renderer: pdf, tag } = renderer();
    await pdf.render('<p>before</p>', FOOTER);
    const [pid] = browserProcesses(tag);
    process.kill(pid!, 'SIGKILL'); // the browser this test started
    await waitFor(() => !pdf.stats().connected, 10_000, 20);
    expect(pdfText(await pdf.render('<p>after</p>', FOOTER))).toContain('after');
    expect(pdf.stats().launches).toBe(2);
    expect(browserProcesses(tag)).toHaveLength(1);
  });

  it('stops a render that takes longer than its time', async () => {
    const { renderer: pdf } = renderer({ timeoutMs: 1 });
    await expect(pdf.render('<p>slow enough</p>', FOOTER)).rejects.toBeInstanceOf(PdfTimeoutError);
    expect(pdf.stats()).toMatchObject({ running: 0, queued: 0 });
  });

  it('closes its browser when closed, and renders no more', async () => {
    const { renderer: pdf, tag } = renderer();
    await pdf.render('<p>x</p>', FOOTER);
    await pdf.close();
    await waitFor(() => browserProcesses(tag).length === 0, 10_000, 20);
    await expect(pdf.render('<p>y</p>', FOOTER)).rejects.toBeInstanceOf(PdfUnavailableError);
  });
});
