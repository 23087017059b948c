import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assertLegacyReport, assertStandardReport, report, runNode } from './reports';

/** The repository root, from dist/test/toolchains. */
const ROOT = join(__dirname, '../../..');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

describe('toolchains other than tsc with emitDecoratorMetadata', () => {
  test('a project compiled by tsc with standard decorators validates @Method({ params }) and refuses untyped methods', async () => {
    const outDir = join(ROOT, 'dist/toolchains/standard');
    const compiled = await runNode([TSC, '-p', 'test/toolchains/standard/tsconfig.json', '--outDir', outDir], ROOT, 120_000);
    assert.equal(compiled.code, 0, compiled.stdout + compiled.stderr);
    assertStandardReport(report(await runNode([join(outDir, 'main.js')], ROOT)));
  });

  test('under tsx, standard decorators: the same checks', async () => {
    assertStandardReport(report(await runNode([TSX, 'main.ts'], join(ROOT, 'test/toolchains/standard'))));
  });

  test('the legacy-decorator project without emitDecoratorMetadata type-checks against the built declarations', async () => {
    const checked = await runNode([TSC, '-p', 'test/toolchains/legacy/tsconfig.json', '--noEmit'], ROOT, 120_000);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });

  test('under tsx, legacy decorators without design:paramtypes never turn validation off', async () => {
    assertLegacyReport(report(await runNode([TSX, 'main.ts'], join(ROOT, 'test/toolchains/legacy'))));
  });
});
