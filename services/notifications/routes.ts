/**
 * The notifications controller: the outbox, read straight from the notice actors' committed state (no message).
 * `GET /notifications?orderId=…` is one order's notice (a page of at most one); without it, every notice, paged.
 */
import { Elysia } from 'elysia';
import { answers, ErrorBodySchema, HttpError, validationError } from '../../runtime/http/index.ts';
import { type MailroomNode } from '../../runtime/index.ts';
import {
  ListNoticesQuerySchema,
  NOTICE_ACTOR,
  NoticePageSchema,
  noticeAddress,
  NotificationsErrorCode,
  PAGE_LIMIT,
  SENT_STATES,
  type Notice,
  type NoticeContext,
  type NoticeKind,
  type NoticeState,
} from './protocol.ts';

const STATE_OF: Record<NoticeKind, NoticeState> = { confirmation: 'confirmationSent', cancellation: 'cancellationSent' };

/**
 * @example
 * startProcess({ name: 'notifications', …NOTIFICATIONS_API, redis: true, routes: notificationRoutes(node) });
 */
export function notificationRoutes(node: MailroomNode) {
  const noticeOf = async (address: string): Promise<Notice | null> => (await node.read<NoticeContext>(address))?.context.notice ?? null;

  return new Elysia({ name: 'notifications:routes' }).get(
    '/notifications',
    async ({ query }) => {
      const limit = query.limit ?? PAGE_LIMIT.default;
      if (limit < PAGE_LIMIT.min || limit > PAGE_LIMIT.max) throw validationError('query.limit', `query.limit is invalid: expected ${PAGE_LIMIT.min}–${PAGE_LIMIT.max}, got ${limit}`);
      const wanted = query.kind ? [STATE_OF[query.kind]] : SENT_STATES;
      if (query.orderId !== undefined) {
        const notice = await noticeOf(noticeAddress(query.orderId));
        return { items: notice && wanted.includes(STATE_OF[notice.kind]) ? [notice] : [], cursor: null };
      }
      const page = await listPage(node, limit, query.cursor, wanted);
      const notices = await Promise.all(page.addresses.map(noticeOf));
      return { items: notices.filter((n): n is Notice => n !== null), cursor: page.cursor };
    },
    {
      query: ListNoticesQuerySchema,
      response: { 200: NoticePageSchema, 400: ErrorBodySchema, 422: ErrorBodySchema },
      detail: {
        summary: 'The outbox: one order’s notice, or every notice paged (in no particular order), optionally by kind',
        description:
          'Each settled order has exactly one notice: a confirmation when it was confirmed, a cancellation when it was cancelled (or its saga compensated). An order still pending, or unknown, has none: its page is empty.',
        tags: ['notifications'],
        responses: answers({
          200: 'One page of notices (with orderId: that order’s notice, or none yet)',
          400: 'INVALID_CURSOR: the cursor is not one this service handed out',
          422: 'VALIDATION: an orderId that is not one, limit outside 1–100 or an unknown kind',
        }),
      },
    },
  );
}

type Position = { scan: string | null; skip: number };

/**
 * One page of notice addresses in the wanted states. `node.list` may return more than asked (a small hash is
 * scanned whole), so the cursor is the scan's cursor plus how many of its items were already served.
 */
async function listPage(node: MailroomNode, limit: number, cursor: string | undefined, states: readonly NoticeState[]) {
  let position = decodeCursor(cursor);
  const addresses: string[] = [];
  while (addresses.length < limit) {
    const scan = await node.list({ type: NOTICE_ACTOR, cursor: position.scan ?? undefined, count: limit });
    const rest = scan.items.filter((item) => states.includes(item.state as NoticeState)).map((item) => item.address).slice(position.skip);
    const room = limit - addresses.length;
    addresses.push(...rest.slice(0, room));
    if (rest.length > room) return { addresses, cursor: encodeCursor({ scan: position.scan, skip: position.skip + room }) };
    if (scan.cursor === null) return { addresses, cursor: null };
    position = { scan: scan.cursor, skip: 0 };
  }
  return { addresses, cursor: encodeCursor(position) };
}

function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodeCursor(cursor: string | undefined): Position {
  if (cursor === undefined || cursor === '') return { scan: null, skip: 0 };
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Position;
    if ((position.scan === null || /^\d+:\d+$/.test(position.scan)) && Number.isInteger(position.skip) && position.skip >= 0) return position;
  } catch {}
  throw new HttpError(400, NotificationsErrorCode.invalidCursor, 'cursor is not one this service handed out; start again without it', { cursor });
}
