import 'reflect-metadata';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { Ctx, Method, Service, type CallContext } from '../../src/index';
import { launchChromium } from '../helpers/browser';
import { startServer } from '../helpers/servers';

const OPEN_STREAMS = 3;
const ITEMS_EACH = 5;
/** The page polls every second: a few polls. */
const PAGE_WAIT_MS = 10_000;

@Service('Feed')
class Feed {
  /** `k` items, then open until the caller leaves. */
  @Method() async *hold(k: number, @Ctx() ctx: CallContext): AsyncGenerator<number> {
    for (let i = 0; i < k; i++) yield i;
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  @Method() ping(): string {
    return 'pong';
  }
}

interface StreamCells {
  server: string;
  rows: Record<string, { kind: string; streams: string; itemsOut: string; itemsIn: string }>;
}

/** Runs in the page (a string: the project compiles without the DOM lib). */
const READ_PAGE = `(() => {
  const rows = {};
  for (const tr of document.querySelectorAll('#methods tr')) {
    const cell = (cls) => tr.querySelector('td.' + cls)?.textContent ?? '<no cell>';
    rows[tr.dataset.method] = { kind: tr.dataset.kind ?? '', streams: cell('streams'), itemsOut: cell('itemsout'), itemsIn: cell('itemsin') };
  }
  return { server: document.getElementById('server').textContent, rows };
})()`;

async function waitForPage(page: Page, what: string, ready: (s: StreamCells) => boolean): Promise<StreamCells> {
  const stopAt = Date.now() + PAGE_WAIT_MS;
  for (;;) {
    const state = (await page.evaluate(READ_PAGE)) as StreamCells;
    if (ready(state)) return state;
    if (Date.now() > stopAt) assert.fail(`timed out waiting for the page to show ${what}; it shows:\n${JSON.stringify(state, null, 2)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(
  'the debug page shows open streams and items out and in per streaming method, and the open count falls back to 0',
  { timeout: 60_000 },
  async (t) => {
    const launched = await launchChromium();
    if (!launched.browser) return t.skip(launched.skip);
    const browser = launched.browser;
    const s = await startServer([new Feed()]);
    try {
      const { port: httpPort } = await s.server.listenHttp(0, '127.0.0.1');
      const feed = s.client().proxy(Feed);
      await feed.ping();
      const its = [];
      for (let n = 0; n < OPEN_STREAMS; n++) {
        const it = feed.hold(ITEMS_EACH)[Symbol.asyncIterator]();
        for (let i = 0; i < ITEMS_EACH; i++) await it.next();
        its.push(it);
      }
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${httpPort}/debug/myrpc`, { waitUntil: 'load', timeout: PAGE_WAIT_MS });
      const open = await waitForPage(page, 'the open streams', (st) => st.rows['Feed.hold']?.streams === String(OPEN_STREAMS));
      assert.deepEqual(open.rows['Feed.hold'], {
        kind: 'server',
        streams: String(OPEN_STREAMS),
        itemsOut: String(OPEN_STREAMS * ITEMS_EACH),
        itemsIn: '0',
      });
      assert.deepEqual(
        open.rows['Feed.ping'],
        { kind: '', streams: '–', itemsOut: '–', itemsIn: '–' },
        'a unary method shows no stream figures',
      );
      assert.ok(open.server.includes(`${OPEN_STREAMS} streams open`), `the server line should count the open streams: '${open.server}'`);

      await Promise.all(its.map((it) => it.return?.()));
      const closed = await waitForPage(page, 'no open stream', (st) => st.rows['Feed.hold']?.streams === '0');
      assert.equal(closed.rows['Feed.hold'].itemsOut, String(OPEN_STREAMS * ITEMS_EACH));
      assert.ok(closed.server.includes('0 streams open'), `the server line after the streams ended: '${closed.server}'`);
    } finally {
      await browser.close();
      await s.stop();
    }
  },
);
