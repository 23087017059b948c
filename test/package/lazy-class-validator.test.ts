import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Importing the library must not load all of class-validator (its index loads ~120 decorator modules, after
 * which a process promotes about 1.5 MB at every scavenge: docs/BENCHMARKS.md). Only the parts MyRPC uses are
 * loaded; `describe` loads the JSON-schema converter (and so all of class-validator) when first asked.
 */
test('importing myrpc loads only the parts of class-validator it uses, not its index', () => {
  const index = join(__dirname, '..', '..', 'src', 'index.js');
  const script = `
    require(${JSON.stringify(index)});
    const loaded = Object.keys(require.cache).filter((k) => k.includes('class-validator'));
    process.stdout.write(JSON.stringify({
      index: loaded.some((k) => /class-validator[\\\\/]cjs[\\\\/]index\\.js$/.test(k)),
      jsonschema: loaded.some((k) => k.includes('class-validator-jsonschema')),
      count: loaded.length,
    }));`;
  const seen = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
    index: boolean;
    jsonschema: boolean;
    count: number;
  };
  assert.equal(seen.index, false, 'class-validator/cjs/index.js was loaded');
  assert.equal(seen.jsonschema, false, 'class-validator-jsonschema was loaded');
  assert.ok(seen.count > 0 && seen.count < 60, `${seen.count} class-validator modules loaded`);
});
