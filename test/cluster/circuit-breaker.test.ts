import { describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, RetryBudget } from '../../src/index';

describe('circuit breaker (deterministic, mocked timers)', () => {
  test('consecutive failures open it; after the open period it half-opens; one probe at a time; success closes it', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let changes = 0;
      const b = new CircuitBreaker({ failureThreshold: 3, initialOpenMs: 100, jitter: 0 }, () => changes++);
      b.onFailure(false);
      b.onFailure(false);
      assert.equal(b.current, 'closed');
      b.onSuccess();
      b.onFailure(false);
      b.onFailure(false);
      assert.equal(b.current, 'closed', 'a success in between resets the count');
      b.onFailure(false);
      assert.equal(b.current, 'open');
      assert.equal(b.available, false);
      mock.timers.tick(99);
      assert.equal(b.current, 'open');
      mock.timers.tick(1);
      assert.equal(b.current, 'half-open');
      assert.equal(b.available, true);
      b.onSend();
      assert.equal(b.available, false, 'only one probe while half-open');
      b.onSuccess();
      assert.equal(b.current, 'closed');
      assert.equal(changes, 4, 'open, half-open, probe out, closed');
      b.dispose();
    } finally {
      mock.timers.reset();
    }
  });

  test('a fatal failure opens at once; a failed probe reopens for twice as long, up to the maximum', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const b = new CircuitBreaker({ failureThreshold: 5, initialOpenMs: 100, maxOpenMs: 250, jitter: 0 }, () => undefined);
      b.onFailure(true);
      assert.equal(b.current, 'open');
      mock.timers.tick(100);
      b.onSend();
      b.onFailure(false);
      assert.equal(b.current, 'open', 'the probe failed');
      mock.timers.tick(199);
      assert.equal(b.current, 'open');
      mock.timers.tick(1);
      assert.equal(b.current, 'half-open', 'after 200 ms');
      b.onFailure(false);
      mock.timers.tick(249);
      assert.equal(b.current, 'open');
      mock.timers.tick(1);
      assert.equal(b.current, 'half-open', 'capped at 250 ms, not 400');
      b.dispose();
    } finally {
      mock.timers.reset();
    }
  });

  test('jitter spreads the open period by ± the fraction', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      for (const [r, expected] of [[0, 80], [1, 120]] as const) {
        const b = new CircuitBreaker({ initialOpenMs: 100, jitter: 0.2, random: () => r }, () => undefined);
        b.onFailure(true);
        mock.timers.tick(expected - 1);
        assert.equal(b.current, 'open');
        mock.timers.tick(1);
        assert.equal(b.current, 'half-open', `random ${r} gives ${expected} ms`);
        b.dispose();
      }
    } finally {
      mock.timers.reset();
    }
  });
});

describe('retry budget (gRPC retry throttling)', () => {
  test('failures spend tokens; retries stop at half the bucket; successes earn them back slowly', () => {
    const budget = new RetryBudget({ maxTokens: 10, tokenRatio: 0.1 });
    assert.equal(budget.canRetry(), true);
    for (let i = 0; i < 5; i++) budget.onFailure();
    assert.equal(budget.available, 5);
    assert.equal(budget.canRetry(), false, 'not more than half left');
    budget.onSuccess();
    assert.equal(budget.canRetry(), true, '5.1 tokens: one retry may go');
    budget.onFailure();
    assert.equal(budget.canRetry(), false, 'and its failure stops the next: one retry per ten successes');
    for (let i = 0; i < 100; i++) budget.onSuccess();
    assert.equal(budget.available, 10, 'capped at the bucket size');
  });
});
