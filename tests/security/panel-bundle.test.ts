/**
 * No secret in the built panel: `bun run build` (into a temporary directory, so the tree's `panel/dist` is left
 * alone) with a control token in the environment and in the data directory, a `REDIS_URL` carrying a password, and
 * this checkout's own `.data/control-token` if it has one — then every file of the bundle is scanned for those
 * values, for Redis URLs, `.data` paths, private keys, bearer tokens and `token=` with a value. The panel gets its
 * token from the URL at run time; nothing secret may be baked in at build time.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from '../supervisor/helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'mailroom-bundle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sentinel = (label: string) => `${label}_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')}`;

/** What must never appear in the bundle: literal values, and shapes of secrets whatever their value. */
type Needle = { what: string; test: (text: string) => boolean };
const literal = (what: string, value: string): Needle => ({ what, test: (text) => text.includes(value) });
const shape = (what: string, re: RegExp): Needle => ({ what, test: (text) => re.test(text) });

const SHAPES: Needle[] = [
  shape('a Redis URL', /rediss?:\/\/[^\s"'`]+/),
  shape('a .data path', /(^|[^A-Za-z0-9_])\.data\//),
  shape('a private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
  shape('token= with a value', /token=[A-Za-z0-9_\-.~%]{6,}/),
  shape('a bearer token', /Bearer [A-Za-z0-9_\-.~+/]{16,}/),
  shape('the control token variable', /MAILROOM_CONTROL_TOKEN/),
];

/** Every file under `dir`, as Latin-1 text so binary files are scanned byte for byte too. */
function filesOf(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { recursive: true })
    .map((name) => join(dir, String(name)))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path: relative(dir, path), text: readFileSync(path).toString('latin1') }));
}

/** Each needle found, with the file and a few characters around it. */
function findings(files: { path: string; text: string }[], needles: Needle[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    for (const needle of needles) if (needle.test(file.text)) out.push(`${needle.what} in ${file.path}`);
  }
  return out;
}

describe('built panel', () => {
  it('should find each kind of secret when it is there (the scan itself can fail)', () => {
    const files = [
      { path: 'a.js', text: 'const u="redis://:pw@10.0.0.1:6380";' },
      { path: 'b.js', text: 'fetch("/control?token=abcdef123456")' },
      { path: 'c.js', text: '"-----BEGIN RSA PRIVATE KEY-----"' },
      { path: 'd.js', text: 'load(".data/control-token")' },
      { path: 'e.js', text: 'h.authorization="Bearer abcdefghijklmnopqrstuvwxyz"' },
      { path: 'f.js', text: 'import.meta.env.MAILROOM_CONTROL_TOKEN' },
    ];
    expect(findings(files, SHAPES)).toHaveLength(6);
    expect(findings([{ path: 'ok.js', text: 'url.searchParams.get("token"); headers.authorization=`Bearer ${t}`' }], SHAPES)).toEqual([]);
  });

  it('should contain no control token, Redis URL, .data path, private key or token value after bun run build', async () => {
    const outDir = join(work, 'dist');
    const dataDir = join(work, 'data');
    mkdirSync(dataDir);
    const envToken = sentinel('envtoken');
    const fileToken = sentinel('filetoken');
    const redisPassword = sentinel('redispw');
    writeFileSync(join(dataDir, 'control-token'), `${fileToken}\n`, { mode: 0o600 });
    const needles: Needle[] = [
      literal('the control token from the environment', envToken),
      literal('the control token from the data directory', fileToken),
      literal('the Redis password', redisPassword),
      ...SHAPES,
    ];
    // The token of this checkout's own runs, if it has been run.
    const ownTokenFile = join(ROOT, '.data', 'control-token');
    if (existsSync(ownTokenFile)) needles.push(literal('this checkout’s control token (.data/control-token)', readFileSync(ownTokenFile, 'utf8').trim()));

    const build = Bun.spawn(['bun', 'run', 'build', '--outDir', outDir, '--emptyOutDir'], {
      cwd: ROOT,
      env: {
        ...process.env,
        MAILROOM_CONTROL_TOKEN: envToken,
        VITE_MAILROOM_CONTROL_TOKEN: envToken,
        MAILROOM_DATA_DIR: dataDir,
        REDIS_URL: `redis://default:${redisPassword}@127.0.0.1:6399/0`,
        NO_COLOR: '1',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [code, stdout, stderr] = await Promise.all([build.exited, new Response(build.stdout).text(), new Response(build.stderr).text()]);
    if (code !== 0) throw new Error(`bun run build failed (exit ${code}):\n${stdout.slice(-2_000)}\n${stderr.slice(-2_000)}`);

    const files = filesOf(outDir);
    // Something was built: the page and its script.
    expect(files.some((f) => f.path === 'index.html')).toBe(true);
    expect(files.some((f) => f.path.endsWith('.js'))).toBe(true);
    expect(findings(files, needles)).toEqual([]);
  }, 120_000);
});
