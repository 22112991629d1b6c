/**
 * The control plane process (port 3100), its composition root: the control API for the panel (`/control/*`,
 * token-guarded mutations, CORS for the panel's origins only), the live event stream, and — when it has been built
 * (`bun run start` builds it) — the panel itself from `panel/dist`. The token comes from the supervisor
 * (`MAILROOM_CONTROL_TOKEN`); run alone, the process reads or creates `.data/control-token` itself.
 */
import { join, resolve } from 'node:path';
import { Elysia } from 'elysia';
import { exposedOf, keyPrefixOf } from '../../runtime/config.ts';
import { onShutdown } from '../../runtime/index.ts';
import { SERVICE_NAMES } from '../config.ts';
import { BUN_PROCESSES, originOf } from '../processes.ts';
import { redisUrlOf } from '../shared/redis-connection.ts';
import { startProcess } from '../shared/start-process.ts';
import { serviceTokenOf } from '../shared/system-access.ts';
import { openControlContext } from './context.ts';
import { gatewayProxy } from './gateway-proxy.ts';
import { hasBuiltPanel, panelFiles } from './panel-files.ts';
import { controlRoutes } from './routes.ts';
import { panelOrigins } from './security.ts';
import { CONTROL_TOKEN_ENV, dataDirOf, ensureControlToken, OTLP_TOKEN_ENV } from './token.ts';
import { CONTROL_API } from './protocol.ts';

const root = resolve(import.meta.dir, '../..');
const token = process.env[CONTROL_TOKEN_ENV] || ensureControlToken(dataDirOf(root));
// Processes are found in the node registry (every instance of them); their fixed addresses when none is listed.
// The Overview's charts read the same `/metrics` Prometheus scrapes: every shop process's (not the control plane's own).
const scrapeTargets = () => BUN_PROCESSES.filter(([name]) => name !== 'control').map(([name]) => ({ name, url: originOf(name) }));
// Exposed, the operator token guards reads too, and every call to another process carries the service credential.
const exposed = exposedOf();
const serviceToken = serviceTokenOf();
const ctx = await openControlContext({ redis: redisUrlOf(), keyPrefix: keyPrefixOf(), origins: (name) => originOf(name), instancesOf: [...SERVICE_NAMES, 'gateway'], scrapeTargets, serviceToken });

const routes = new Elysia().use(controlRoutes(ctx, { token, origins: panelOrigins(), exposed, ingestToken: process.env[OTLP_TOKEN_ENV] || undefined })).use(gatewayProxy(() => ctx.origins('gateway'), serviceToken));
const dist = join(root, 'panel', 'dist');
if (hasBuiltPanel(dist)) routes.use(panelFiles(dist));

// The frame's service credential guards only /metrics here: the control API wants the operator token, the panel's
// files are public.
startProcess({ name: 'control', ...CONTROL_API, bearer: { ...CONTROL_API.bearer, everyRequest: exposed }, redis: true, routes, publicPaths: (path) => path !== '/metrics' });
onShutdown(() => ctx.close());
