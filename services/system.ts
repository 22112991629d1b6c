/**
 * The composition root of a running Mailroom: `bun run dev` (`bun services/system.ts --dev`, with the panel's Vite
 * dev server) and `bun run start` (without; the control plane serves the built panel). It lists Mailroom's processes,
 * hands them to the generic supervisor, prints one table once all are healthy, and stops everything on Ctrl-C or
 * SIGTERM. Problems are printed as one line each, never as a stack trace.
 */
import { join, resolve } from 'node:path';
import { DEFAULT_PORTS, hostOf, portOf, type ProcessName } from '../runtime/config.ts';
import { SupervisorError } from '../runtime/supervisor/errors.ts';
import { useColour } from '../runtime/supervisor/output.ts';
import { Supervisor } from '../runtime/supervisor/supervisor.ts';
import { renderTable } from '../runtime/supervisor/table.ts';
import { mailroomProcesses, panelUrlOf } from './processes.ts';

const root = resolve(import.meta.dir, '..');
const dev = process.argv.includes('--dev');
const started = performance.now();

const portEnvVar = (name: string) => `MAILROOM_PORT_${name.toUpperCase()}`;
// Every child sees every port explicitly, so a process that calls another agrees with the supervisor on where it is.
const portEnv = Object.fromEntries(
  (Object.keys(DEFAULT_PORTS) as Array<ProcessName | 'redis'>).map((name) => [portEnvVar(name), String(portOf(name))]),
);

const supervisor = new Supervisor({
  processes: mailroomProcesses({ dev, bun: process.execPath }).map((spec) => ({ ...spec, portEnvVar: portEnvVar(spec.name) })),
  cwd: root,
  env: { ...process.env, ...portEnv },
  host: hostOf(),
  redisUrl: process.env.REDIS_URL || undefined,
  privateRedis: {
    port: portOf('redis'),
    dataDir: join(resolve(root, process.env.MAILROOM_DATA_DIR || '.data'), 'redis'),
    portEnvVar: portEnvVar('redis'),
  },
  colour: useColour(),
  // The control plane will publish these (process.started / healthy / exited) for the panel.
  onEvent: () => {},
});

let stopRequested = false;
let firstSignalAt = 0;
function onSignal(signal: NodeJS.Signals): void {
  // Ctrl-C under `bun run dev` arrives twice: from the terminal and forwarded by `bun run`. Only a second press,
  // a moment later, means "stop now".
  if (stopRequested && performance.now() - firstSignalAt < 1000) return;
  if (stopRequested) {
    console.error('supervisor: stopping now (SIGKILL to every process)');
    supervisor.kill();
    process.exit(130);
  }
  stopRequested = true;
  firstSignalAt = performance.now();
  console.log(`\nsupervisor: ${signal}, stopping every process…`);
  const stopping = performance.now();
  void supervisor.stop().then(() => {
    console.log(`supervisor: all processes stopped (${((performance.now() - stopping) / 1000).toFixed(1)} s)`);
    process.exit(0);
  });
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

try {
  await supervisor.start();
} catch (error) {
  if (stopRequested) await new Promise(() => {}); // onSignal exits once everything is stopped
  const lines = error instanceof SupervisorError ? error.message : `supervisor failed: ${error instanceof Error ? error.message : String(error)}`;
  for (const line of lines.split('\n')) console.error(`mailroom: ${line}`);
  process.exit(1);
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`\nMailroom is up (${dev ? 'dev' : 'start'} mode, ${seconds} s):\n`);
console.log(renderTable(supervisor.processes()));
console.log('\n  Every process answers GET /health and shows its API at /swagger.');
console.log(`  panel: ${panelUrlOf(dev)}`);
console.log('  Ctrl-C stops everything.\n');
