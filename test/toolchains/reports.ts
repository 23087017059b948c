import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node args...` in `cwd`, bounded in time; never rejects. */
export function runNode(args: string[], cwd: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function report(run: Run): Record<string, unknown> {
  assert.equal(run.code, 0, `exit ${run.code}\n${run.stderr}\n${run.stdout}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
}

const UNTYPED =
  /^ServiceDefinitionError: Untyped(Service)?\.add: the types of its 2 parameter\(s\) are unknown.*@Method\(\{ params: \[\.\.\.\] \}\)/;

/** What the standard-decorator project must have seen, however it was compiled. */
export function assertStandardReport(r: Record<string, unknown>): void {
  assert.equal(r.decoratorMode, 'standard', 'the project really ran standard decorators');
  assert.match(String(r.untyped), UNTYPED);
  assert.equal(r.add, 5);
  assert.equal(r.addString, 'INVALID_ARGUMENT', "add('2', 3) is refused");
  assert.equal(r.mail, 'ann@example.com: (none)', 'a zod schema validated and applied its default');
  assert.equal(r.badMail, 'INVALID_ARGUMENT');
  assert.equal(r.hello, 'ann via Calc.hello', 'context: true passes the call context');
  assert.equal(r.afterBadInput, 2, 'the server goes on serving after bad input');
}

/** What the legacy-decorator project without metadata must have seen. */
export function assertLegacyReport(r: Record<string, unknown>): void {
  assert.equal(r.decoratorMode, 'legacy');
  assert.equal(r.hasParamTypesMetadata, false, 'no design:paramtypes, as under esbuild');
  assert.match(String(r.untyped), UNTYPED);
  assert.equal(r.badEmail, 'INVALID_ARGUMENT');
  assert.equal(r.good, 'ann@example.com');
  assert.equal(r.handlerGotInstance, true, 'the handler gets a NewUser instance');
}
