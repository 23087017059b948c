import 'reflect-metadata';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { RpcClient, RpcCode, RpcError, withOptions } from '../../src/index';
import { CalculatorContract, type Operation } from '../../samples/calculator/contract';
import { startCalculatorServer } from '../../samples/calculator/server';
import { launchChromium } from '../helpers/browser';

/** Committed as documentation (docs/DEBUG-PAGE.md shows it); rewritten by every run of this test. */
// The committed screenshot is refreshed only on request (UPDATE_SCREENSHOT=1), so `npm test` leaves the tree clean.
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? join(__dirname, '../../../docs/debug-page.png')
    : join(tmpdir(), `myrpc-debug-page-${process.pid}.png`);
/** Longest wait for the page to show something: the page polls every second, so a few polls. */
const PAGE_WAIT_MS = 10_000;

const ADDS = 300;
const MORE_ADDS = 50;
const GOOD_COMPUTES = 40;
const BAD_COMPUTES = 3; // rejected by validation
const DIV_BY_ZERO = 2; // rejected by the handler
const QUICK_SUMS = 5;

interface Row {
  rowClass: string;
  calls: string;
  errors: string;
  inflight: string;
  p50: string;
  p99: string;
  mean: string;
  codes: string;
}

interface PageState {
  server: string;
  status: string;
  statusClass: string;
  rows: Record<string, Row>;
}

/** Runs in the page (a string: the project compiles without the DOM lib). What the page shows, cell by cell. */
const READ_PAGE = `(() => {
  const rows = {};
  for (const tr of document.querySelectorAll('#methods tr')) {
    const cell = (cls) => tr.querySelector('td.' + cls)?.textContent ?? '<no cell>';
    rows[tr.dataset.method] = {
      rowClass: tr.className, calls: cell('calls'), errors: cell('errors'), inflight: cell('inflight'),
      p50: cell('p50'), p99: cell('p99'), mean: cell('mean'), codes: cell('codes'),
    };
  }
  const status = document.getElementById('status');
  return { server: document.getElementById('server').textContent, status: status.textContent, statusClass: status.className, rows };
})()`;

function readPage(page: Page): Promise<PageState> {
  return page.evaluate(READ_PAGE) as Promise<PageState>;
}

/** Polls the DOM until `ready` holds, for at most PAGE_WAIT_MS; on timeout the error shows what the page had. */
async function waitForPage(page: Page, what: string, ready: (state: PageState) => boolean): Promise<PageState> {
  const stopAt = Date.now() + PAGE_WAIT_MS;
  for (;;) {
    const state = await readPage(page);
    if (ready(state)) return state;
    if (Date.now() > stopAt)
      assert.fail(`timed out after ${PAGE_WAIT_MS} ms waiting for the page to show ${what}; it shows:\n${JSON.stringify(state, null, 2)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function row(state: PageState, method: string): Row {
  const r = state.rows[method];
  assert.ok(r, `no row with data-method="${method}"; rows: ${Object.keys(state.rows).join(', ')}`);
  return r;
}

/** A latency cell: a plain non-negative number of ms (the page shows '–' when there is none). */
function latency(text: string, what: string): number {
  assert.match(text, /^\d+(\.\d+)?$/, `${what} should be a number of ms, the page shows '${text}'`);
  return Number(text);
}

function assertLatencies(r: Row, method: string): void {
  const p50 = latency(r.p50, `${method} p50`);
  const p99 = latency(r.p99, `${method} p99`);
  latency(r.mean, `${method} mean`);
  assert.ok(p50 <= p99, `${method}: p50 ${p50} ms > p99 ${p99} ms`);
}

async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const stopAt = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > stopAt) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test(
  'the debug page at /debug/myrpc shows live per-method figures of a real server and refreshes itself',
  { timeout: 90_000 },
  async (t) => {
    const launched = await launchChromium();
    if (!launched.browser) {
      t.skip(launched.skip);
      return;
    }
    const browser = launched.browser;
    const { server, port } = await startCalculatorServer(0);
    const client = new RpcClient({ port, host: '127.0.0.1', defaultTimeoutMs: 10_000 });
    const release = new AbortController();
    let held: Promise<unknown> | undefined;
    try {
      const { port: httpPort } = await server.listenHttp(0, '127.0.0.1');
      const origin = `http://127.0.0.1:${httpPort}`;
      const calc = client.proxy(CalculatorContract);

      // Traffic over TCP, all finished before the page opens, so its first draw has exact counts.
      for (let batch = 0; batch < ADDS / 20; batch++) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => calc.add(batch, i)));
      }
      const ops = ['add', 'sub', 'mul', 'div'] as const;
      for (let i = 0; i < GOOD_COMPUTES; i += 4) {
        await Promise.all(ops.map((op, j) => calc.compute({ op, a: i + j, b: i + j + 1 })));
      }
      for (let i = 0; i < BAD_COMPUTES; i++) {
        const err = await calc.compute({ op: 'pow', a: 'x', b: i } as unknown as Operation).then(
          () => assert.fail('bad input was accepted'),
          (e: unknown) => e,
        );
        assert.ok(RpcError.is(err) && err.code === RpcCode.INVALID_ARGUMENT, `bad input: expected INVALID_ARGUMENT, got ${String(err)}`);
      }
      for (let i = 0; i < DIV_BY_ZERO; i++) {
        const err = await calc.compute({ op: 'div', a: i, b: 0 }).then(
          () => assert.fail('division by zero was accepted'),
          (e: unknown) => e,
        );
        assert.ok(RpcError.is(err) && err.code === RpcCode.INVALID_ARGUMENT, `div by 0: expected INVALID_ARGUMENT, got ${String(err)}`);
      }
      await Promise.all(Array.from({ length: QUICK_SUMS }, (_, i) => calc.slowSum(3, 2 + i)));
      // One call held in flight: slowSum of a million one-second steps, until `release` cancels it.
      held = withOptions(calc, { signal: release.signal, timeoutMs: 60_000 }).slowSum(1_000_000, 1000);
      held.catch(() => undefined);
      await until(() => server.inFlight === 1, 5000, 'the held slowSum to be in flight on the server');

      const page = await browser.newPage({ viewport: { width: 1200, height: 500 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      const navigations: string[] = [];
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) navigations.push(frame.url());
      });

      const response = await page.goto(`${origin}/debug/myrpc`, { waitUntil: 'load', timeout: PAGE_WAIT_MS });
      assert.equal(response?.status(), 200);
      assert.match(response.headers()['content-type'] ?? '', /^text\/html/);
      assert.equal(await page.title(), 'MyRPC debug');
      const navigationsAtLoad = navigations.length;

      await t.test('each method has a row with its calls, errors, in-flight count, latencies and error codes', async () => {
        const state = await waitForPage(
          page,
          'the first figures',
          (s) => s.statusClass === '' && s.status.startsWith('updated') && 'Calculator.add' in s.rows,
        );
        const add = row(state, 'Calculator.add');
        assert.deepEqual(
          { calls: add.calls, errors: add.errors, inflight: add.inflight, codes: add.codes, rowClass: add.rowClass },
          { calls: String(ADDS), errors: '0', inflight: '0', codes: '', rowClass: '' },
        );
        assertLatencies(add, 'Calculator.add');

        const compute = row(state, 'Calculator.compute');
        const computeErrors = BAD_COMPUTES + DIV_BY_ZERO;
        assert.deepEqual(
          { calls: compute.calls, errors: compute.errors, inflight: compute.inflight, codes: compute.codes, rowClass: compute.rowClass },
          {
            calls: String(GOOD_COMPUTES + computeErrors),
            errors: String(computeErrors),
            inflight: '0',
            codes: `INVALID_ARGUMENT ${computeErrors}`,
            rowClass: 'errors',
          },
        );
        assertLatencies(compute, 'Calculator.compute');

        // `calls` counts finished calls; the held one shows only as in flight.
        const sums = row(state, 'Calculator.slowSum');
        assert.deepEqual(
          { calls: sums.calls, errors: sums.errors, inflight: sums.inflight, codes: sums.codes },
          { calls: String(QUICK_SUMS), errors: '0', inflight: '1', codes: '' },
        );
        assertLatencies(sums, 'Calculator.slowSum');

        assert.ok(
          state.server.includes(`127.0.0.1:${port}`),
          `the server line should name the TCP address 127.0.0.1:${port}: '${state.server}'`,
        );
        const connections = `${server.connectionCount} connection${server.connectionCount === 1 ? '' : 's'}`;
        assert.ok(state.server.includes(connections), `the server line should count ${connections}: '${state.server}'`);
        assert.ok(state.server.includes('1 call in flight'), `the server line should count the held call: '${state.server}'`);

        // Documentation: the page with realistic data on it.
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        if (process.env.UPDATE_SCREENSHOT !== '1') await rm(SCREENSHOT, { force: true });
      });

      await t.test('the page refreshes itself: more calls show up without a reload', async () => {
        await page.evaluate('window.__notReloaded = true');
        const fetchesBefore = requests.filter((u) => u.endsWith('/debug/myrpc/stats.json')).length;
        await Promise.all(Array.from({ length: MORE_ADDS }, (_, i) => calc.add(i, i)));
        const state = await waitForPage(
          page,
          `Calculator.add calls = ${ADDS + MORE_ADDS}`,
          (s) => s.rows['Calculator.add']?.calls === String(ADDS + MORE_ADDS),
        );
        assert.equal(row(state, 'Calculator.add').errors, '0');
        assert.equal(await page.evaluate('window.__notReloaded === true'), true, 'the page was reloaded');
        assert.deepEqual(navigations.slice(navigationsAtLoad), [], 'the page navigated again');
        const fetchesAfter = requests.filter((u) => u.endsWith('/debug/myrpc/stats.json')).length;
        assert.ok(fetchesAfter > fetchesBefore, `the page should have polled stats.json again (${fetchesBefore} -> ${fetchesAfter})`);
      });

      await t.test('after the server closes, the page says it cannot reach the server and keeps the last figures', async () => {
        release.abort();
        await held?.catch(() => undefined);
        await client.close();
        await server.close({ graceMs: 100 });
        const state = await waitForPage(page, 'the "cannot reach the server" status', (s) => s.statusClass === 'stale');
        assert.match(state.status, /^cannot reach the server/);
        assert.equal(row(state, 'Calculator.add').calls, String(ADDS + MORE_ADDS), 'the last figures should stay on the page');
      });

      assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
      const elsewhere = requests.filter((u) => !u.startsWith(`${origin}/`));
      assert.deepEqual(elsewhere, [], 'the page must be self-contained: no request leaves the server');
    } finally {
      release.abort();
      await held?.catch(() => undefined);
      await browser.close().catch((err: unknown) => t.diagnostic(`closing Chromium: ${String(err)}`));
      await client.close().catch(() => undefined);
      await server.close({ graceMs: 100 });
    }
  },
);
