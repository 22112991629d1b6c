/**
 * The e2e system's port range never puts a process on a port Chromium refuses (`net::ERR_UNSAFE_PORT`): a run whose
 * random offset put the gateway on 6665 (an IRC port) failed both Swagger UI specs.
 */
import { describe, expect, it } from 'bun:test';
import { DEFAULT_PORTS } from '../../services/config.ts';
import { browserCanReach } from '../e2e/system.ts';

describe('the e2e system’s ports', () => {
  it('should refuse an offset that puts any process on a port Chromium will not open', () => {
    expect(browserCanReach(6665 - DEFAULT_PORTS.gateway)).toBe(false); // the run that failed
    expect(browserCanReach(10080 - DEFAULT_PORTS.control)).toBe(false);
    expect(browserCanReach(1000)).toBe(true);
  });
});
