/**
 * The control plane process (port 3100): the control API for the panel. For now it answers `/health`,
 * `/control/health` and `/control/processes`; the control plane issue adds topology, actors, sagas, breakers,
 * chaos, the live event stream and serving the built panel.
 */
import { startProcess } from '../shared/start-process.ts';
import { controlRoutes } from './routes.ts';

startProcess({ name: 'control', description: 'The control API behind the panel.', redis: true, routes: controlRoutes });
