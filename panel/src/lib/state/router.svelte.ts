/**
 * The current hash route, as state: views render from it, links change it, the browser's back button works.
 */
import { parseRoute, routeHref, type Route } from '../models/route.ts';

export class Router {
  route = $state<Route>(parseRoute(location.hash));

  constructor() {
    addEventListener('hashchange', () => {
      this.route = parseRoute(location.hash);
    });
  }

  go(route: Route): void {
    location.hash = routeHref(route);
  }
}
