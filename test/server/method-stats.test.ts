import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MethodStats, RECENT_SLOT_MS, RECENT_WINDOW_SLOTS } from '../../src/server/method-stats';

/** Records one call of `ms` that finished at `at` (performance-clock ms). */
function call(stats: MethodStats, at: number, ms: number, code?: string): void {
  stats.begin();
  stats.finish(at - ms, code, at);
}

test('recent percentiles cover the last minute while lifetime counters keep counting', () => {
  const stats = new MethodStats();
  const t0 = 1_000_000 * RECENT_SLOT_MS;
  for (let i = 0; i < 100; i++) call(stats, t0 + i, 200); // slow calls, an hour ago in effect
  assert.ok((stats.recentQuantile(0.5, t0 + 100) ?? 0) > 100);
  const later = t0 + RECENT_WINDOW_SLOTS * RECENT_SLOT_MS + 1;
  assert.equal(stats.recentQuantile(0.5, later), undefined, 'a minute later the slow calls are out of the window');
  for (let i = 0; i < 10; i++) call(stats, later + i, 0.05, i === 0 ? 'INTERNAL' : undefined);
  const p50 = stats.recentQuantile(0.5, later + 20) ?? Infinity;
  assert.ok(p50 <= 0.1, `recent p50 is the fast calls', got ${p50}`);
  assert.ok((stats.quantile(0.5) ?? 0) > 100, 'the lifetime quantile still sees the slow calls');
  assert.equal(stats.calls, 110);
  assert.equal(stats.errors, 1);
  assert.equal(
    stats.recentCounts(later + 20).reduce((a, b) => a + b, 0),
    10,
  );
});

test('the window holds calls from the current and the five previous 10 s periods only', () => {
  const stats = new MethodStats();
  const base = 7 * RECENT_WINDOW_SLOTS * RECENT_SLOT_MS;
  for (let slot = 0; slot < 8; slot++) call(stats, base + slot * RECENT_SLOT_MS, 1);
  const now = base + 7 * RECENT_SLOT_MS;
  assert.equal(
    stats.recentCounts(now).reduce((a, b) => a + b, 0),
    RECENT_WINDOW_SLOTS,
  );
  assert.equal(
    stats.recentCounts(now + RECENT_SLOT_MS).reduce((a, b) => a + b, 0),
    RECENT_WINDOW_SLOTS - 1,
  );
  assert.equal(stats.calls, 8);
});
