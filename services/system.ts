/**
 * The composition root of a running Mailroom: `bun run dev` (`bun services/system.ts --dev`, with the panel's Vite
 * dev server) and `bun run start` (without; the control plane serves the built panel). It lists Mailroom's processes,
 * hands them to the generic supervisor, prints one table once all are healthy, and stops everything on Ctrl-C or
 * SIGTERM. Problems are printed as one line each, never as a stack trace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { prometheusConfig, prometheusPortOf, prometheusSpec } from '../runtime/observe/index.ts';
import { exposedOf, hostOf, keyPrefixOf } from '../runtime/config.ts';
import { startDevCluster } from './dev-cluster.ts';
import { DEFAULT_PORTS, portOf, type ProcessName } from './config.ts';
import { renderTable, Supervisor, SupervisorBridge, SupervisorError, useColour, type ProcessSpec } from '../runtime/supervisor/index.ts';
import { dataDirOf, ensureControlToken, OTLP_TOKEN_ENV } from './control/token.ts';
import { MAX_REPLICAS, mailroomProcesses, originOf, panelUrlOf } from './processes.ts';
import { ensureSecretFile } from './shared/secret-file.ts';
import { SERVICE_TOKEN_ENV, serviceTokenOf } from './shared/system-access.ts';

const root = resolve(import.meta.dir, '..');
const dev = process.argv.includes('--dev');
/** `--observe`: also run Debian's Prometheus, scraping every process. */
const observe = process.argv.includes('--observe');
/** `--replicas N`: N instances of every actor service and of the gateway (found by discovery). */
const replicas = replicasOf(process.argv);
/** `--cluster`: run everything on a local 3-master / 3-replica Redis Cluster instead of one private Redis. */
const clusterMode = process.argv.includes('--cluster');
/** `--trace` (or MAILROOM_TRACE=1): every shop process exports its spans to the control plane, which draws them. */
const traced = process.argv.includes('--trace') || process.env.MAILROOM_TRACE === '1';
const started = performance.now();
const dataDir = dataDirOf(root);
// The control plane's bearer token: kept across runs, so an open panel tab keeps working after a restart.
const controlToken = ensureControlToken(dataDir);
// Exposed (a non-loopback MAILROOM_HOST, or MAILROOM_EXPOSED=1): every child gets the system's service credential, and
// the private Redis wants a password. On loopback neither exists, as before.
const exposed = exposedOf();
const serviceToken = serviceTokenOf(process.env, dataDir);
const redisAuth = exposed ? { user: 'mailroom', password: ensureSecretFile(dataDir, 'redis-password') } : undefined;

// Before anything opens a Redis link: with --cluster every process (this one included) finds it in MAILROOM_REDIS_CLUSTER.
const cluster = clusterMode ? await startDevCluster(dataDir) : undefined;

const portEnvVar = (name: string) => `MAILROOM_PORT_${name.toUpperCase()}`;
// Every child sees every port explicitly, so a process that calls another agrees with the supervisor on where it is.
const portEnv = Object.fromEntries(
  (Object.keys(DEFAULT_PORTS) as Array<ProcessName | 'redis'>).map((name) => [portEnvVar(name), String(portOf(name))]),
);

const processes: ProcessSpec[] = mailroomProcesses({ dev, bun: process.execPath, controlToken, replicas }).map((spec) => ({ ...spec, portEnvVar: portEnvVar(spec.name.split('#')[0]!) }));
if (traced) {
  // The control plane is the processes' OTLP/HTTP receiver; they post with a token good for that alone, made per run.
  const ingestToken = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('hex');
  const exporting = {
    OTEL_EXPORTER_OTLP_ENDPOINT: originOf('control'),
    OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${ingestToken}`,
    // Small batches, sent often: under the control plane's 64 KiB body limit, and a trace shows up within a second.
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE ?? '32',
    OTEL_BSP_SCHEDULE_DELAY: process.env.OTEL_BSP_SCHEDULE_DELAY ?? '500',
  };
  for (const spec of processes) {
    if (spec.name === 'control') spec.env = { ...spec.env, [OTLP_TOKEN_ENV]: ingestToken };
    else if (spec.name !== 'panel') spec.env = { ...spec.env, ...exporting };
  }
}
const prometheusBin = observe ? Bun.which('prometheus') : null;
if (observe && !prometheusBin) {
  console.log('mailroom: --observe: no `prometheus` on PATH (Debian: apt-get install prometheus); starting without it — every process still answers GET /metrics');
}
if (prometheusBin) {
  // Every Bun process answers /metrics; the panel's Vite server does not.
  const targets = processes.filter((p) => p.name !== 'panel').map((p) => ({ name: p.name, url: p.url ?? new URL(p.healthUrl).origin }));
  const dir = join(dataDir, 'prometheus');
  mkdirSync(dir, { recursive: true });
  // Exposed processes want the service credential on /metrics: Prometheus reads it from a file of its own.
  const credentialsFile = serviceToken ? join(dir, 'service-token') : undefined;
  if (credentialsFile) writeFileSync(credentialsFile, serviceToken!, { mode: 0o600 });
  writeFileSync(join(dir, 'prometheus.yml'), prometheusConfig(targets, undefined, credentialsFile));
  processes.push(prometheusSpec({ bin: prometheusBin, configFile: join(dir, 'prometheus.yml'), dataDir: join(dir, 'data'), host: hostOf(), port: prometheusPortOf() }));
}

// The supervisor's link to the control plane: the process table in Redis, commands from it, process.* events.
const bridge = new SupervisorBridge({ keyPrefix: keyPrefixOf() });

const supervisor = new Supervisor({
  processes,
  cwd: root,
  // In dev mode the panel's `redis` chaos rules can reach every node's connections (MAILROOM_CHAOS_REDIS).
  env: { ...process.env, ...portEnv, MAILROOM_CHAOS_REDIS: process.env.MAILROOM_CHAOS_REDIS ?? (dev ? '1' : '0'), ...(serviceToken ? { [SERVICE_TOKEN_ENV]: serviceToken } : {}) },
  host: hostOf(),
  redisUrl: cluster?.url ?? (process.env.REDIS_URL || undefined),
  privateRedis: {
    port: portOf('redis'),
    dataDir: join(dataDir, 'redis'),
    portEnvVar: portEnvVar('redis'),
    auth: redisAuth,
  },
  colour: useColour(),
  onEvent: bridge.onEvent,
  onChange: bridge.onChange,
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
    cluster?.abort();
    process.exit(130);
  }
  stopRequested = true;
  firstSignalAt = performance.now();
  console.log(`\nsupervisor: ${signal}, stopping every process…`);
  const stopping = performance.now();
  void bridge
    .stopListening()
    .catch(() => {})
    .then(() => supervisor.stop())
    .then(() => bridge.close())
    .then(() => cluster?.stop())
    .then(() => {
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
  await cluster?.stop();
  process.exit(1);
}

try {
  await bridge.attach(supervisor);
} catch (error) {
  console.error(`mailroom: the control plane cannot reach the supervisor through Redis (${error instanceof Error ? error.message : String(error)}); process commands will not work`);
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`\nMailroom is up (${dev ? 'dev' : 'start'} mode, ${seconds} s):\n`);
console.log(renderTable(supervisor.processes()));
console.log('\n  Every process answers GET /health and shows its API at /swagger.');
console.log(`  panel: ${panelUrlOf(dev, process.env, controlToken)}`);
if (traced) console.log('  traces: every shop process exports its spans to the control plane; a saga in the panel links to its trace');
if (prometheusBin) console.log(`  prometheus: http://${hostOf()}:${prometheusPortOf()}/targets (scraping every process's /metrics; config in ${relative(root, join(dataDir, 'prometheus', 'prometheus.yml'))})`);
console.log(`  (the token in that URL authorises the panel’s actions; it is kept in ${relative(root, join(dataDir, 'control-token'))})`);
if (exposed) console.log(`  exposed: every request needs a credential — the service credential is in ${relative(root, join(dataDir, 'service-token'))}${process.env[SERVICE_TOKEN_ENV] ? ` (given as ${SERVICE_TOKEN_ENV})` : ''}; see docs/security.md`);
console.log('  Ctrl-C stops everything.\n');

/** The number after `--replicas` (or `--replicas=N`); 1 without it. Exits with a clear line on anything else. */
function replicasOf(argv: readonly string[]): number {
  const at = argv.findIndex((a) => a === '--replicas' || a.startsWith('--replicas='));
  if (at < 0) return 1;
  const raw = argv[at]!.includes('=') ? argv[at]!.slice('--replicas='.length) : argv[at + 1];
  const n = Number(raw);
  if (raw === undefined || !Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) {
    console.error(`mailroom: --replicas needs a whole number from 1 to ${MAX_REPLICAS} (got ${raw ?? 'nothing'})`);
    process.exit(2);
  }
  return n;
}
