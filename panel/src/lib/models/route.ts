/**
 * The panel's hash routes — every view, actor, saga and breaker has a URL a person can paste. Parsing and
 * formatting are inverse, so a link built here always opens the thing it names.
 */

export const VIEWS = ['overview', 'actors', 'sagas', 'breakers', 'chaos', 'events', 'deadletters', 'orders'] as const;
export type View = (typeof VIEWS)[number];

export type Route =
  | { view: 'overview' }
  | { view: 'actors'; address?: string; /** Time travel: the committed version to show instead of the live state. */ version?: number }
  | { view: 'sagas'; orderId?: string; /** The order's trace as a waterfall, instead of its timeline. */ trace?: boolean }
  | { view: 'breakers'; process?: string; dependency?: string }
  | { view: 'chaos' }
  | { view: 'events' }
  | { view: 'deadletters' }
  | { view: 'orders'; orderId?: string };

/**
 * @example
 * parseRoute('#/actors/inventory/sku/ABC-1'); // { view: 'actors', address: 'inventory/sku/ABC-1' }
 * parseRoute('#/actors/order/fulfillment/ord-1/@3'); // { view: 'actors', address: 'order/fulfillment/ord-1', version: 3 }
 */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [view, ...rest] = parts;
  switch (view) {
    case 'actors': {
      // A last segment `@<n>` is a version (time travel), never part of the id.
      const at = /^@([1-9]\d*)$/.exec(rest.at(-1) ?? '');
      if (at && rest.length >= 4) return { view, address: rest.slice(0, -1).join('/'), version: Number(at[1]) };
      return rest.length >= 3 ? { view, address: rest.join('/') } : { view };
    }
    case 'sagas':
      if (!rest[0]) return { view };
      return rest[1] === 'trace' ? { view, orderId: rest[0], trace: true } : { view, orderId: rest[0] };
    case 'orders':
      return rest[0] ? { view, orderId: rest[0] } : { view };
    case 'breakers':
      return rest.length >= 2 ? { view, process: rest[0]!, dependency: rest[1]! } : { view };
    case 'chaos':
    case 'events':
    case 'deadletters':
      return { view };
    default:
      return { view: 'overview' };
  }
}

/**
 * @example
 * routeHref({ view: 'sagas', orderId: 'ord-1' }); // '#/sagas/ord-1'
 * routeHref({ view: 'sagas', orderId: 'ord-1', trace: true }); // '#/sagas/ord-1/trace'
 */
export function routeHref(route: Route): string {
  const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');
  switch (route.view) {
    case 'overview':
      return '#/';
    case 'actors':
      if (!route.address) return '#/actors';
      return `#/actors/${enc(route.address)}${route.version ? `/@${route.version}` : ''}`;
    case 'sagas':
      if (!route.orderId) return '#/sagas';
      return `#/sagas/${encodeURIComponent(route.orderId)}${route.trace ? '/trace' : ''}`;
    case 'orders':
      return route.orderId ? `#/orders/${encodeURIComponent(route.orderId)}` : '#/orders';
    case 'breakers':
      return route.process && route.dependency ? `#/breakers/${encodeURIComponent(route.process)}/${encodeURIComponent(route.dependency)}` : '#/breakers';
    default:
      return `#/${route.view}`;
  }
}
