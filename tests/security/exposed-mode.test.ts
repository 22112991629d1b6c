/**
 * Exposed mode's parts, in-process: when a process counts as exposed, what its guard lets through (and what it
 * answers otherwise), which gateway paths are the shop's public face, what its OpenAPI document declares for
 * Authorize (and that `redocly lint` still finds no error in it), and that Redis passwords never reach a printout.
 * The default — loopback, no `MAILROOM_EXPOSED` — guards nothing, as before.
 */
import { describe, expect, it } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Elysia, t } from 'elysia';
import { createServiceApp } from '../../runtime/http/index.ts';
import { exposedOf, isLoopbackHost } from '../../runtime/config.ts';
import { prometheusConfig } from '../../runtime/observe/prometheus-config.ts';
import { redactedUrl } from '../../runtime/redis/redacted-url.ts';
import { privateRedisCommand, privateRedisUrl } from '../../runtime/supervisor/private-redis.ts';
import { isPublicPath } from '../../services/gateway/protocol.ts';
import { accessGuardOf, serviceTokenOf } from '../../services/shared/system-access.ts';

const TOKEN = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');

describe('exposedOf', () => {
  it('should call loopback addresses unexposed and any other address exposed', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '127.255.0.9', 'localhost', '::1', '[::1]']) expect({ host, loopback: isLoopbackHost(host) }).toEqual({ host, loopback: true });
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'shop.example', '127.0.0.1.example', '1127.0.0.1']) expect({ host, loopback: isLoopbackHost(host) }).toEqual({ host, loopback: false });
    expect(exposedOf({})).toBe(false);
    expect(exposedOf({ MAILROOM_HOST: '127.0.0.3' })).toBe(false);
    expect(exposedOf({ MAILROOM_HOST: '0.0.0.0' })).toBe(true);
    expect(exposedOf({ MAILROOM_EXPOSED: '1' })).toBe(true);
  });

  it('should not let MAILROOM_EXPOSED=0 unexpose a public address, and refuse a value it does not know', () => {
    expect(exposedOf({ MAILROOM_EXPOSED: '0', MAILROOM_HOST: '10.0.0.5' })).toBe(true);
    expect(() => exposedOf({ MAILROOM_EXPOSED: 'yes' })).toThrow(/MAILROOM_EXPOSED=yes must be 1/);
  });
});

describe('the service credential', () => {
  it('should need none on loopback, keep one in the data directory when exposed, and refuse a weak one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-access-'));
    try {
      expect(serviceTokenOf({}, dir)).toBeUndefined();
      expect(accessGuardOf(undefined, {})).toBeUndefined();
      const kept = serviceTokenOf({ MAILROOM_EXPOSED: '1' }, dir)!;
      expect(kept).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(readFileSync(join(dir, 'service-token'), 'utf8').trim()).toBe(kept);
      expect(statSync(join(dir, 'service-token')).mode & 0o777).toBe(0o600);
      expect(serviceTokenOf({ MAILROOM_EXPOSED: '1' }, dir)).toBe(kept);
      expect(serviceTokenOf({ MAILROOM_EXPOSED: '1', MAILROOM_SERVICE_TOKEN: TOKEN }, dir)).toBe(TOKEN);
      expect(() => serviceTokenOf({ MAILROOM_SERVICE_TOKEN: 'secret' }, dir)).toThrow(/MAILROOM_SERVICE_TOKEN must be 32–256 characters/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A small service as the frame builds it, with a guard when `exposed`. */
function build(exposed: boolean) {
  return createServiceApp({ name: 'thing', log: () => {}, access: exposed ? { token: TOKEN, isPublic: (path) => path.startsWith('/api/') } : undefined })
    .get('/things', () => ['a'], { detail: { summary: 'Things' } })
    .post('/things', ({ body }) => body, { body: t.Object({ name: t.String() }), detail: { summary: 'Add a thing' } })
    .get('/api/things', () => ['a'], { detail: { summary: 'Public things' } });
}

const call = (app: ReturnType<typeof build>, method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  app.handle(new Request(`http://127.0.0.1:3999${path}`, { method, headers: { host: '127.0.0.1', 'content-type': 'application/json', ...headers }, body }));

describe('the frame’s guard', () => {
  it('should let everything through on loopback, as before', async () => {
    const app = build(false);
    expect((await call(app, 'GET', '/things')).status).toBe(200);
    expect((await call(app, 'POST', '/things', {}, '{"name":"x"}')).status).toBe(200);
    expect((await call(app, 'GET', '/metrics')).status).toBe(200);
  });

  it('should answer 401 with a JSON error and WWW-Authenticate to any request without this token, before validating it', async () => {
    const app = build(true);
    const wrong: Record<string, string>[] = [{}, { authorization: `Bearer ${TOKEN}x` }, { authorization: `bearer ${TOKEN}` }, { authorization: TOKEN }, { authorization: `Basic ${btoa(`x:${TOKEN}`)}` }, { 'x-service-token': TOKEN }];
    for (const [method, path] of [['GET', '/things'], ['POST', '/things'], ['GET', '/metrics'], ['GET', '/things/'], ['GET', '/nowhere'], ['DELETE', '/health/x']]) {
      for (const headers of wrong) {
        const res = await call(app, method!, path!, headers, method === 'GET' ? undefined : '{"broken"');
        const body = (await res.json()) as { code: string; message: string };
        expect({ method, path, headers, status: res.status, challenge: res.headers.get('www-authenticate'), code: body.code }).toEqual({ method, path, headers, status: 401, challenge: 'Bearer', code: 'UNAUTHORIZED' });
        expect(body.message).toContain('service credential');
      }
    }
  });

  it('should let the token through, and leave /health, /swagger, preflights and public paths open', async () => {
    const app = build(true);
    expect((await call(app, 'POST', '/things', { authorization: `Bearer ${TOKEN}` }, '{"name":"x"}')).status).toBe(200);
    expect((await call(app, 'GET', '/metrics', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    for (const path of ['/health', '/swagger', '/swagger/json', '/api/things']) expect({ path, status: (await call(app, 'GET', path)).status }).toEqual({ path, status: 200 });
    expect((await call(app, 'OPTIONS', '/things')).status).not.toBe(401);
  });
});

describe('the gateway’s public face', () => {
  it('should be the shop’s orders, sagas and catalogue reads, not restocking, the strangler dial or the breakers', () => {
    for (const path of ['/api/orders', '/api/orders/', '/api/orders/ord-1', '/api/sagas', '/api/sagas/ord-1', '/api/catalogue', '/api/catalogue/BOX-S', '/api/health']) expect({ path, open: isPublicPath(path) }).toEqual({ path, open: true });
    for (const path of ['/api/catalogue/BOX-S/restock', '/api/admin/strangler', '/api/breakers', '/metrics', '/api/orders/a/b', '/api', '/api/', '//api/orders', '/api//orders']) expect({ path, open: isPublicPath(path) }).toEqual({ path, open: false });
  });
});

describe('the OpenAPI document of an exposed process', () => {
  it('should declare the service scheme on the guarded operations and none on the public ones', async () => {
    const doc = (await (await call(build(true), 'GET', '/swagger/json')).json()) as Record<string, any>;
    expect(doc.components.securitySchemes.service).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/things'].get.security).toEqual([{ service: [] }]);
    expect(doc.paths['/things'].post.security).toEqual([{ service: [] }]);
    expect(doc.paths['/things'].post.responses[401].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(doc.paths['/api/things'].get.security).toEqual([]);
    expect(doc.paths['/health'].get.security).toEqual([]);
    expect(doc.info.description).toContain('This process is exposed');
    const loopback = (await (await call(build(false), 'GET', '/swagger/json')).json()) as Record<string, any>;
    expect(loopback.components.securitySchemes).toBeUndefined();
    expect(loopback.security).toEqual([]);
  });

  it('should put the control token on reads too when the control plane is exposed', async () => {
    const app = createServiceApp({ name: 'control', log: () => {}, bearer: { description: 'The control token', everyRequest: true } }).use(new Elysia().get('/control/actors', () => []));
    const doc = (await (await call(app as never, 'GET', '/swagger/json')).json()) as Record<string, any>;
    expect(doc.paths['/control/actors'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/health'].get.security).toEqual([]);
  });

  it('should pass redocly lint with no error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-exposed-doc-'));
    try {
      const file = join(dir, 'thing.json');
      writeFileSync(file, await (await call(build(true), 'GET', '/swagger/json')).text());
      writeFileSync(join(dir, 'redocly.yaml'), 'extends:\n  - recommended\n');
      const cli = join(import.meta.dir, '../../node_modules/@redocly/cli/bin/cli.js');
      const proc = Bun.spawn(['bun', cli, 'lint', '--config', join(dir, 'redocly.yaml'), '--format', 'json', file], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' } });
      const [out] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      const report = JSON.parse(out.slice(out.indexOf('{'))) as { totals: { errors: number }; problems: { severity: string; ruleId: string }[] };
      expect(report.problems.filter((p) => p.severity === 'error').map((p) => p.ruleId)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('Redis credentials', () => {
  it('should print a Redis address without its password', () => {
    expect(redactedUrl('redis://mailroom:s3cr%40t@127.0.0.1:6380')).toBe('redis://mailroom:***@127.0.0.1:6380');
    expect(redactedUrl('redis://:s3cret@10.0.0.2:6379/0')).toBe('redis://:***@10.0.0.2:6379/0');
    expect(redactedUrl('rediss://u:p@host:6380')).toBe('rediss://u:***@host:6380');
    expect(redactedUrl('redis://127.0.0.1:6380')).toBe('redis://127.0.0.1:6380');
    expect(redactedUrl('redis://user@127.0.0.1:6380')).toBe('redis://user@127.0.0.1:6380');
  });

  it('should give a private Redis with auth an ACL file of mode 600 (not the command line), and the URL the user and password', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-private-redis-'));
    try {
      const auth = { user: 'mailroom', password: TOKEN };
      const argv = privateRedisCommand({ server: 'redis-server', port: 6390, dataDir: dir, auth });
      expect(argv[1]).toBe(join(dir, 'acl.conf'));
      expect(argv.join(' ')).not.toContain(TOKEN);
      expect(readFileSync(join(dir, 'acl.conf'), 'utf8')).toContain(`user default off\nuser mailroom on >${TOKEN} ~* &* +@all\n`);
      expect(statSync(join(dir, 'acl.conf')).mode & 0o777).toBe(0o600);
      expect(privateRedisUrl(6390, auth)).toBe(`redis://mailroom:${TOKEN}@127.0.0.1:6390`);
      expect(privateRedisCommand({ server: 'redis-server', port: 6390, dataDir: dir })[1]).toBe('--port');
      expect(() => privateRedisCommand({ server: 'redis-server', port: 6390, dataDir: dir, auth: { user: 'mailroom', password: 'a b@c' } })).toThrow(/URL-safe/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should have Prometheus send the credential from a file when there is one', () => {
    const targets = [{ name: 'order', url: 'http://127.0.0.1:3001' }];
    expect(prometheusConfig(targets)).not.toContain('authorization');
    expect(prometheusConfig(targets, 5, '/data/prometheus/service-token')).toContain("    authorization:\n      type: Bearer\n      credentials_file: '/data/prometheus/service-token'\n");
  });
});
