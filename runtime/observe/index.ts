/**
 * Observing the processes from outside: the Prometheus that scrapes every process's `/metrics` — its configuration
 * and its process spec for the supervisor. (Metrics and traces themselves are recorded inside the runtime; the HTTP
 * frame serves them.)
 */
export { DEFAULT_PROMETHEUS_PORT, prometheusConfig, prometheusPortOf, prometheusSpec } from './prometheus-config.ts';
export type { ScrapeTarget } from './prometheus-config.ts';
