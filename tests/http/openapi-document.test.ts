/**
 * The frame's OpenAPI document, in-process: what `@elysiajs/openapi` leaves out or gets wrong is finished — JSON
 * request bodies with their example, integers as integers, route-checked ranges as bounds, the statuses the frame
 * answers by itself with the one Error schema, servers, tags, and a bearer scheme where one guards changes.
 */
import { describe, expect, it } from 'bun:test';
import { Elysia, t } from 'elysia';
import { answers, pageLimit } from '../../runtime/http/index.ts';
import { createServiceApp } from '../../runtime/http/index.ts';

const routes = new Elysia()
  .post('/things', ({ body }) => body, {
    body: t.Object({ qty: t.Integer({ minimum: 1 }), price: t.Integer() }, { examples: [{ qty: 2, price: 450 }] }),
    response: { 200: t.Object({ qty: t.Integer(), price: t.Integer() }, { description: 'The thing' }) },
    detail: { summary: 'Add a thing', tags: ['things'], responses: answers({ 200: 'The thing as stored', 409: 'A thing like it exists' }) },
  })
  .get('/things', ({ query }) => ({ limit: query.limit ?? 20 }), { query: t.Object({ limit: pageLimit({ min: 1, max: 100, default: 20 }, 'Things per page') }) });

const build = (options: Partial<Parameters<typeof createServiceApp>[0]> = {}) =>
  createServiceApp({ name: 'demo', description: 'Things', tags: [{ name: 'things', description: 'What the demo keeps' }], ...options }).use(routes);
const docOf = async (app: ReturnType<typeof build>, host = '127.0.0.1:3000') =>
  (await (await app.handle(new Request(`http://${host}/swagger/json`, { headers: { host } }))).json()) as any;

describe('OpenAPI document', () => {
  it('should document a JSON request body with its schema and example, integers as integers', async () => {
    const op = (await docOf(build())).paths['/things'].post;
    expect(Object.keys(op.requestBody.content)).toEqual(['application/json']);
    expect(op.requestBody.content['application/json'].schema.properties.qty).toEqual({ minimum: 1, type: 'integer' });
    expect(op.requestBody.content['application/json'].example).toEqual({ qty: 2, price: 450 });
    expect(JSON.stringify(await docOf(build()))).not.toContain('"format":"integer"');
  });

  it('should document a route-checked page size with minimum, maximum and default', async () => {
    const [limit] = (await docOf(build())).paths['/things'].get.parameters;
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 20 });
  });

  it('should say when each status comes, and add the frame’s own with the one Error schema', async () => {
    const doc = await docOf(build());
    const { responses } = doc.paths['/things'].post;
    expect(Object.keys(responses)).toEqual(['200', '400', '403', '409', '413', '415', '421', '422', '500']);
    expect(responses[200].description).toBe('The thing as stored');
    expect(responses[409]).toEqual({ description: 'A thing like it exists', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
    expect(responses[415].description).toStartWith('UNSUPPORTED_MEDIA_TYPE');
    expect(doc.components.schemas.Error.properties.details.type).toBe('object');
    expect(Object.keys(doc.paths['/things'].get.responses)).toEqual(['421', '422', '500']);
  });

  it('should document admission control’s 429 and 503 with Retry-After on changing operations only, when the app has it', async () => {
    const doc = await docOf(build({ admission: true }));
    const post = doc.paths['/things'].post.responses;
    expect(post['429'].description).toContain('OVERLOADED');
    expect(post['429'].headers['Retry-After'].schema).toEqual({ type: 'integer', minimum: 1 });
    expect(post['429'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(post['503'].description).toContain('backlog could not be read');
    expect(post['503'].headers['Retry-After']).toBeDefined();
    expect(doc.paths['/things'].get.responses['429']).toBeUndefined();
    expect((await docOf(build())).paths['/things'].post.responses['429']).toBeUndefined();
  });

  it('should name the server it was served from, its tags, and no security unless a bearer guards changes', async () => {
    const doc = await docOf(build(), 'localhost:3999');
    expect(doc.servers).toEqual([{ url: 'http://localhost:3999', description: expect.any(String) }]);
    expect(doc.tags.map((tag: { name: string }) => tag.name)).toEqual(['health', 'things']);
    expect(doc.security).toEqual([]);
    const guarded = await docOf(build({ bearer: { description: 'The control token' } }));
    expect(guarded.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(guarded.paths['/things'].post.security).toEqual([{ bearer: [] }]);
    expect(guarded.paths['/things'].post.responses[401]).toBeDefined();
    expect(guarded.paths['/things'].get.security).toEqual([]);
  });
});
