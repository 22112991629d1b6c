/**
 * The runtime's saga operator routes (`runtime/http/saga-routes.ts`) are not the order service's: mounted for
 * another saga on another service, they name its id, address and words in answers, errors and the document. (The
 * order service's use of them — paging, retry, resolve — is tested in tests/sagas/saga-routes.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { setup } from 'xstate';
import { t } from 'elysia';
import { answer, createNode, defineActor, defineSaga, type MailroomNode } from '../../runtime/index.ts';
import { createServiceApp, sagaRoutes, type SagaRoutesWords } from '../../runtime/http/index.ts';
import { cleanupPrefix, SHARED_REDIS, testPrefix } from '../helpers/redis.ts';

/** An account that answers every debit at once. */
const account = defineActor(
  'account',
  setup({ types: {} as { context: object; events: any } }).createMachine({
    on: { debit: { actions: answer(({ event }) => ({ type: 'bank.debited', commandId: event.commandId })) } },
  }),
);
type Data = { transferId: string };
const transfer = defineSaga<Data>({
  name: 'transfer',
  steps: [{ name: 'debitAccount', command: (d) => ({ to: `bank/account/${d.transferId}`, event: { type: 'debit' } }), succeeded: 'bank.debited' }],
});
const words: SagaRoutesWords = {
  id: { name: 'transferId', schema: t.String({ pattern: '^t[0-9]+$', description: 'The transfer' }) },
  noun: 'transfer',
  notFound: 'never started',
  exampleStep: 'debitAccount',
  data: 'The transfer',
  completion: 'settlement',
  completionExample: 'the ledger settlement',
};

const prefix = testPrefix('saga-routes-generic');
let node: MailroomNode;
let app: ReturnType<typeof createServiceApp>;
const get = async (path: string) => {
  const res = await app.handle(new Request(`http://localhost${path}`));
  return { status: res.status, body: (await res.json()) as any };
};

beforeAll(async () => {
  node = await createNode({ service: 'bank', actors: [account, transfer.definition], keyPrefix: prefix, redis: SHARED_REDIS, partitions: 2 });
  app = createServiceApp({ name: 'bank', log: () => {} }).use(sagaRoutes(node, transfer, words)) as any;
  await node.send('bank/transfer/t1', { type: 'saga.start', data: { transferId: 't1' } }, { id: 'start:t1' });
  await node.waitFor('bank/transfer/t1', (v) => v.state === 'completed', { timeoutMs: 5_000 });
});
afterAll(async () => {
  await node?.stop();
  await cleanupPrefix(prefix);
});

describe('sagaRoutes', () => {
  it('should answer a saga under its own id name and address', async () => {
    const one = await get('/sagas/t1');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ transferId: 't1', saga: 'bank/transfer/t1', status: 'completed', step: 'completed' });
    expect(one.body.log.map((e: { step: string; phase: string }) => `${e.step}:${e.phase}`)).toContain('debitAccount:succeeded');
    const page = await get('/sagas?status=completed');
    expect(page.body.items.map((s: { transferId: string }) => s.transferId)).toEqual(['t1']);
  });

  it('should speak of the saga in its own words in errors, and check the id against its schema', async () => {
    expect(await get('/sagas/t2')).toEqual({ status: 404, body: expect.objectContaining({ code: 'SAGA_NOT_FOUND', message: 'no saga for transfer t2', details: { transferId: 't2' } }) });
    const bad = await get('/sagas/x-1');
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('transferId');
  });

  it('should document the routes with the saga’s id and words', async () => {
    const doc = (await get('/swagger/json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/sagas', '/sagas/{transferId}', '/sagas/{transferId}/retry', '/sagas/{transferId}/resolve']));
    expect(doc.paths['/sagas'].get.summary).toBe('Page through the transfer sagas (in no particular order), optionally by status');
    expect(doc.paths['/sagas/{transferId}'].get.responses['404'].description).toBe('SAGA_NOT_FOUND: no saga for this transfer (never started)');
    expect(JSON.stringify(doc)).toContain('The saga actor’s address, bank/transfer/<transferId>');
  });
});
