import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertLegacyReport, assertStandardReport, report } from '../toolchains/reports';
import { npm, ok, run } from './npm';

/** The repository root, from dist/test/package. */
const ROOT = join(__dirname, '../../..');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

interface Packed {
  filename: string;
  files: { path: string }[];
}

/** One `npm pack` for the whole file (dist was built by `npm test`'s pretest), into a folder removed at the end. */
const PACK_DIR = mkdtempSync(join(tmpdir(), 'myrpc-pack-'));
let packing: Promise<{ tarball: string; files: string[] }> | undefined;
function pack(): Promise<{ tarball: string; files: string[] }> {
  packing ??= npm(['pack', '--json', '--ignore-scripts', '--pack-destination', PACK_DIR], ROOT).then((r) => {
    const [packed] = JSON.parse(ok(r, 'npm pack').stdout) as Packed[];
    return { tarball: join(PACK_DIR, packed.filename), files: packed.files.map((f) => f.path) };
  });
  return packing;
}
after(() => rmSync(PACK_DIR, { recursive: true, force: true }));

describe('npm pack contents', () => {
  let files: string[];
  before(async () => {
    files = (await pack()).files;
  });

  test('the tarball holds the built code, its types, maps and sources, the ESM entries and the LICENSE', () => {
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/index.js.map',
      'dist/src/index.d.ts.map',
      'dist/src/etcd.js',
      'dist/src/etcd.d.ts',
      'dist/src/cli/main.js',
      'esm/index.mjs',
      'esm/etcd.mjs',
      'src/index.ts',
      'docs/PROTOCOL.md',
    ]) {
      assert.ok(files.includes(f), `${f} is packed`);
    }
  });

  test('the tarball holds no tests, samples, benchmarks or build leftovers', () => {
    const stray = files.filter(
      (f) => /^(dist\/(test|samples|bench|toolchains)|test|samples|bench|scratch|node_modules)\//.test(f) || f.endsWith('.tsbuildinfo'),
    );
    assert.deepEqual(stray, []);
  });

  test('source maps resolve: every map names a packed source and carries its text', () => {
    const maps = files.filter((f) => f.startsWith('dist/src/') && f.endsWith('.js.map'));
    assert.ok(maps.length > 20, `${maps.length} maps`);
    for (const m of maps) {
      const map = JSON.parse(readFileSync(join(ROOT, m), 'utf8')) as { sources: string[]; sourcesContent?: string[] };
      const source = join(m, '..', map.sources[0]).replace(/\\/g, '/');
      assert.ok(files.includes(source), `${m} points at ${source}, which is packed`);
      assert.ok((map.sourcesContent?.[0]?.length ?? 0) > 0, `${m} inlines its source`);
    }
  });

  test('package.json: peers for the decorator libraries, etcd3, prom-client and @opentelemetry/api optional, scripts that build', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    for (const peer of ['class-validator', 'class-transformer', 'reflect-metadata', 'etcd3', 'prom-client']) {
      assert.ok(pkg.peerDependencies[peer], `${peer} is a peer`);
      assert.equal(pkg.dependencies[peer], undefined, `${peer} is not a plain dependency`);
    }
    assert.deepEqual(pkg.peerDependenciesMeta, {
      '@opentelemetry/api': { optional: true },
      etcd3: { optional: true },
      'prom-client': { optional: true },
    });
    assert.match(String(pkg.scripts.prepare), /build/);
    assert.match(String(pkg.scripts.prepack), /build/);
    assert.ok(pkg.repository, 'repository is set');
    const exportsMap = pkg.exports as unknown as Record<string, Record<string, string>>;
    for (const entry of ['.', './etcd']) {
      assert.deepEqual(
        Object.keys(exportsMap[entry]),
        ['types', 'import', 'require', 'default'],
        `${entry}: types first, then import and require`,
      );
      for (const target of Object.values(exportsMap[entry]))
        assert.ok(files.includes(target.replace(/^\.\//, '')), `${entry} -> ${target} is packed`);
    }
  });
});

describe('installing the packed tarball into an empty project', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'myrpc-install-'));
    const { tarball } = await pack();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    // --prefer-offline: the tarball's dependencies and peers come from the npm cache `npm ci` filled.
    ok(
      await npm(['install', '--prefer-offline', '--no-package-lock', tarball, 'zod', '@types/node@20'], dir, 240_000),
      'npm install of the tarball',
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('pulls no gRPC and no etcd3, but the peers a decorator user needs', () => {
    for (const absent of ['@grpc/grpc-js', 'etcd3', 'protobufjs', 'prom-client'])
      assert.equal(existsSync(join(dir, 'node_modules', absent)), false, `${absent} is not installed`);
    for (const present of ['myrpc/dist/src/index.js', 'class-validator', 'class-transformer', 'reflect-metadata']) {
      assert.ok(existsSync(join(dir, 'node_modules', present)), `${present} is installed`);
    }
  });

  test('require, import and myrpc/etcd work from the installed package', async () => {
    const cjs = ok(
      await run(
        process.execPath,
        ['-e', "const m = require('myrpc'); const e = require('myrpc/etcd'); console.log(typeof m.RpcServer, typeof e.EtcdRegistrar)"],
        dir,
        30_000,
      ),
      'require',
    );
    assert.equal(cjs.stdout.trim(), 'function function');
    const script =
      "import { RpcServer } from 'myrpc'; import { createRequire } from 'node:module'; const req = createRequire(process.cwd() + '/x.js'); console.log(typeof RpcServer, RpcServer === req('myrpc').RpcServer)";
    const esm = ok(await run(process.execPath, ['--input-type=module', '-e', script], dir, 30_000), 'import');
    assert.equal(esm.stdout.trim(), 'function true', 'the ESM entry re-exports the same classes as require()');
  });

  test('the bin runs: myrpc --help exits 0', async () => {
    const help = await run(join(dir, 'node_modules/.bin/myrpc'), ['--help'], dir, 30_000);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^myrpc <command> \[options\]/);
  });

  test('under tsx, the legacy and standard-decorator projects work against the installed package', async () => {
    for (const project of ['legacy', 'standard']) {
      mkdirSync(join(dir, project));
      for (const f of ['main.ts', 'tsconfig.json']) copyFileSync(join(ROOT, 'test/toolchains', project, f), join(dir, project, f));
    }
    assertLegacyReport(report(await run(process.execPath, [TSX, 'main.ts'], join(dir, 'legacy'), 60_000)));
    assertStandardReport(report(await run(process.execPath, [TSX, 'main.ts'], join(dir, 'standard'), 60_000)));
  });

  test('the shipped declarations type-check with skipLibCheck off and without etcd3 or prom-client installed', async () => {
    for (const project of ['legacy', 'standard']) {
      const checked = await run(
        process.execPath,
        [TSC, '-p', join(project, 'tsconfig.json'), '--noEmit', '--skipLibCheck', 'false'],
        dir,
        120_000,
      );
      assert.equal(checked.code, 0, `${project}: ${checked.stdout}${checked.stderr}`);
    }
  });
});

describe('installing from a git checkout', () => {
  test('npm install git+file://…#HEAD builds dist through prepare, and the package requires', async (t) => {
    const head = await run('git', ['rev-parse', 'HEAD'], ROOT, 10_000);
    if (head.code !== 0) {
      t.skip('not a git checkout');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'myrpc-git-install-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    ok(
      await npm(['install', '--prefer-offline', '--no-package-lock', `git+file://${ROOT}#${head.stdout.trim()}`], dir, 300_000),
      'npm install from git',
    );
    assert.ok(existsSync(join(dir, 'node_modules/myrpc/dist/src/index.js')), 'prepare built dist');
    assert.equal(existsSync(join(dir, 'node_modules/@grpc/grpc-js')), false, 'no gRPC');
    const required = ok(await run(process.execPath, ['-e', "console.log(typeof require('myrpc').RpcServer)"], dir, 30_000), 'require');
    assert.equal(required.stdout.trim(), 'function');
  });
});
