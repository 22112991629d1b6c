import { describe, expect, it } from 'bun:test';
import { parseRoute, routeHref, type Route } from '../../panel/src/lib/models/route.ts';

describe('panel routes', () => {
  it('should parse every view and deep link, and format them back to the same hash', () => {
    const routes: Route[] = [
      { view: 'overview' },
      { view: 'actors' },
      { view: 'actors', address: 'inventory/sku/ABC-1' },
      { view: 'actors', address: 'order/fulfillment/ord-1', version: 3 },
      { view: 'sagas', orderId: 'ord-1' },
      { view: 'sagas', orderId: 'ord-1', trace: true },
      { view: 'breakers', process: 'payment', dependency: 'provider' },
      { view: 'chaos' },
      { view: 'events' },
      { view: 'deadletters' },
      { view: 'orders', orderId: 'ord-2' },
    ];
    for (const route of routes) expect(parseRoute(routeHref(route))).toEqual(route);
  });

  it('should keep an actor id with odd characters intact', () => {
    const route: Route = { view: 'actors', address: 'order/fulfillment/a b#c' };
    expect(parseRoute(routeHref(route))).toEqual(route);
  });

  it('should read a last `@<n>` as a version only, never as an id or a version 0', () => {
    expect(routeHref({ view: 'actors', address: 'order/fulfillment/ord-1', version: 12 })).toBe('#/actors/order/fulfillment/ord-1/@12');
    expect(parseRoute('#/actors/order/fulfillment/ord-1/@0')).toEqual({ view: 'actors', address: 'order/fulfillment/ord-1/@0' });
    expect(parseRoute('#/actors/a/b/@2')).toEqual({ view: 'actors', address: 'a/b/@2' });
  });

  it('should fall back to the overview for an unknown or empty hash', () => {
    expect(parseRoute('')).toEqual({ view: 'overview' });
    expect(parseRoute('#/nope')).toEqual({ view: 'overview' });
    expect(parseRoute('#/actors/only-two/parts')).toEqual({ view: 'actors' });
  });
});
