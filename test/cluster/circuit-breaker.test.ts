import { describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, RetryBudget } from '../../src/index';
import { OutlierDetector } from '../../src/cluster/outlier-detector';

describe('circuit breaker (deterministic, mocked timers)', () => {
  test('consecutive failures open it; after the open period it half-opens; one probe at a time; success closes it', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let changes = 0;
      const b = new CircuitBreaker({ failureThreshold: 3, initialOpenMs: 100, jitter: 0 }, () => changes++);
      b.onFailure('soft');
      b.onFailure('soft');
      assert.equal(b.current, 'closed');
      b.onSuccess();
      b.onFailure('soft');
      b.onFailure('soft');
      assert.equal(b.current, 'closed', 'a success in between resets the count');
      b.onFailure('soft');
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
      b.onFailure('hard');
      assert.equal(b.current, 'open');
      mock.timers.tick(100);
      b.onSend();
      b.onFailure('soft');
      assert.equal(b.current, 'open', 'the probe failed');
      mock.timers.tick(199);
      assert.equal(b.current, 'open');
      mock.timers.tick(1);
      assert.equal(b.current, 'half-open', 'after 200 ms');
      b.onFailure('soft');
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
      for (const [r, expected] of [
        [0, 80],
        [1, 120],
      ] as const) {
        const b = new CircuitBreaker({ initialOpenMs: 100, jitter: 0.2, random: () => r }, () => undefined);
        b.onFailure('hard');
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

describe('circuit breaker probes and ejection limits', () => {
  test('a cancelled half-open probe call ends the probe: the endpoint is not stranded', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const b = new CircuitBreaker({ initialOpenMs: 100, jitter: 0 }, () => undefined);
      b.onFailure('hard');
      mock.timers.tick(100);
      b.onSend();
      assert.equal(b.available, false, 'the probe is out');
      b.release(); // the call was cancelled (or aborted by broadcast's first error)
      assert.equal(b.available, true, 'the next call may probe');
      b.dispose();
    } finally {
      mock.timers.reset();
    }
  });

  test('a background probe decides the half-open state; calls stay away until it answers', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let answer!: (ok: boolean) => void;
      const b = new CircuitBreaker(
        { initialOpenMs: 100, jitter: 0 },
        { onChange: () => undefined, probe: () => new Promise<boolean>((r) => (answer = r)) },
      );
      b.onFailure('hard');
      mock.timers.tick(100);
      assert.equal(b.current, 'half-open');
      assert.equal(b.available, false, 'no call is risked while the probe is out');
      answer(false);
      await Promise.resolve();
      await Promise.resolve();
      assert.equal(b.current, 'open', 'a failed probe reopens');
      mock.timers.tick(200);
      answer(true);
      await Promise.resolve();
      await Promise.resolve();
      assert.equal(b.current, 'closed');
      b.dispose();
    } finally {
      mock.timers.reset();
    }
  });

  test('soft failures eject only while mayEject allows; hard failures always do', () => {
    let allow = false;
    const b = new CircuitBreaker({ failureThreshold: 2 }, { onChange: () => undefined, mayEject: () => allow });
    for (let i = 0; i < 6; i++) b.onFailure('soft');
    assert.equal(b.current, 'closed', 'at the ejection limit it stays in rotation');
    allow = true;
    b.onFailure('soft');
    b.onFailure('soft');
    assert.equal(b.current, 'open');
    assert.equal(b.softEjected, true);
    b.dispose();
    const c = new CircuitBreaker({}, { onChange: () => undefined, mayEject: () => false });
    c.onFailure('hard');
    assert.equal(c.current, 'open', 'a refused connection is a fact, not a judgement');
    c.dispose();
  });
});

describe('outlier detection (failure rate on answered codes)', () => {
  test('ejects once an interval holds minRequests answers with the failure share; each real ejection lasts longer; a clean interval forgives', () => {
    let now = 0;
    const d = new OutlierDetector(
      { minRequests: 4, failurePercent: 50, intervalMs: 1000, baseEjectionMs: 100, maxEjectionMs: 250 },
      () => now,
    );
    assert.equal(d.record('NOT_FOUND'), 0, 'codes outside the set are not failures');
    assert.equal(d.record(undefined), 0);
    assert.equal(d.record('INTERNAL'), 0);
    assert.equal(d.record('INTERNAL'), 100, '2 of 4 failed: eject for the base time');
    for (let i = 0; i < 3; i++) d.record('INTERNAL');
    assert.equal(d.record('INTERNAL'), 100, 'the last ejection was refused (not confirmed): the same length');
    d.ejected();
    for (let i = 0; i < 3; i++) d.record('UNAVAILABLE');
    assert.equal(d.record('UNAVAILABLE'), 200, 'the second real ejection lasts twice as long');
    d.ejected();
    d.ejected();
    for (let i = 0; i < 3; i++) d.record('INTERNAL');
    assert.equal(d.record('INTERNAL'), 250, 'capped at maxEjectionMs');
    now += 1000;
    d.record(undefined);
    now += 1000;
    for (let i = 0; i < 3; i++) d.record('INTERNAL');
    assert.equal(d.record('INTERNAL'), 100, 'an interval without failures reset the count');
    assert.throws(() => new OutlierDetector({ failurePercent: 0 }), RangeError);
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
