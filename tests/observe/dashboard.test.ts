/**
 * What `--observe` ships beside the metrics: the Grafana dashboard (`runtime/observe/grafana-dashboard.json`) and
 * the generated Prometheus config. The dashboard must hold together as Grafana reads it (unique panel ids, grid
 * positions, a Prometheus data source on every query), every query must be PromQL that Prometheus parses
 * (`promtool check rules`), and every metric it names must be one the processes export. The scrape config must pass
 * `promtool check config` and list every process.
 */
import { describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dashboard from '../../runtime/observe/grafana-dashboard.json';
import { registry } from '../../runtime/observe/metrics.ts';
import { prometheusConfig, prometheusPortOf, prometheusSpec } from '../../runtime/observe/index.ts';
import { BUN_PROCESSES, originOf } from '../../services/processes.ts';

type Panel = { id: number; type: string; title: string; gridPos: { h: number; w: number; x: number; y: number }; datasource?: { type: string }; targets?: { refId: string; expr: string; datasource?: { type: string } }[] };
const panels = dashboard.panels as Panel[];
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

async function run(cmd: string[]): Promise<{ code: number; said: string }> {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, said: (out + err).trim() };
}

function withTempFile<T>(name: string, text: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-observe-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return fn(path).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** A rule file with one recording rule per query, Grafana's variables replaced by values Prometheus takes. */
const rulesOf = (exprs: string[]) =>
  `groups:\n  - name: dashboard\n    rules:\n${exprs
    .map((e, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(e.replaceAll('$__rate_interval', '1m').replaceAll('$service', '.*'))}`)
    .join('\n')}\n`;

describe('the Grafana dashboard', () => {
  it('should be a dashboard Grafana can import: a uid, a title, a data source variable, unique panel ids on the grid', () => {
    expect(dashboard.uid).toBe('mailroom-overview');
    expect(dashboard.title).toBe('Mailroom');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'service']);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.gridPos.h).toBeGreaterThan(0);
      if (p.type === 'row') continue;
      expect(p.datasource?.type).toBe('prometheus');
      expect(p.targets?.length).toBeGreaterThan(0);
      expect(new Set(p.targets!.map((t) => t.refId)).size).toBe(p.targets!.length);
    }
    expect(queries.length).toBeGreaterThan(20);
  });

  it('should query only metrics the processes export', () => {
    const exported = new Set(registry.getMetricsAsArray().map((m) => m.name));
    const named = new Set(queries.flatMap((q) => q.expr.match(/\b(?:mailroom|process)_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    expect([...named].filter((n) => !exported.has(n))).toEqual([]);
    // Every family Mailroom exports shows somewhere.
    const mailroom = [...exported].filter((n) => n.startsWith('mailroom_'));
    expect(mailroom.filter((n) => !named.has(n))).toEqual([]);
  });

  it('should hold PromQL that Prometheus parses (and a broken query fails the same check)', async () => {
    const good = await withTempFile('rules.yml', rulesOf(queries.map((q) => q.expr)), (path) => run(['promtool', 'check', 'rules', path]));
    expect({ code: good.code, said: good.said }).toEqual({ code: 0, said: expect.stringContaining('SUCCESS') });
    const bad = await withTempFile('rules.yml', rulesOf(['sum by (service (rate(mailroom_turns_total[1m]))']), (path) => run(['promtool', 'check', 'rules', path]));
    expect(bad.code).not.toBe(0);
  });
});

describe('the generated Prometheus config', () => {
  it('should scrape every Bun process and pass promtool check config', async () => {
    const env = { MAILROOM_PORT_OFFSET: '300' };
    const targets = BUN_PROCESSES.map(([name]) => ({ name, url: originOf(name, env) }));
    const yaml = prometheusConfig(targets);
    for (const [name] of BUN_PROCESSES) expect(yaml).toContain(`process: '${name}'`);
    expect(yaml).toContain(`targets: ['127.0.0.1:3301']`);
    const checked = await withTempFile('prometheus.yml', yaml, (path) => run(['promtool', 'check', 'config', path]));
    expect({ code: checked.code, said: checked.said }).toEqual({ code: 0, said: expect.stringContaining('SUCCESS') });
  });

  it('should run Prometheus on 127.0.0.1 at its port, ready at /-/ready', () => {
    expect(prometheusPortOf({})).toBe(9090);
    expect(prometheusPortOf({ MAILROOM_PORT_OFFSET: '300' })).toBe(9390);
    expect(prometheusPortOf({ MAILROOM_PORT_PROMETHEUS: '9999' })).toBe(9999);
    const spec = prometheusSpec({ bin: '/usr/bin/prometheus', configFile: '/x/p.yml', dataDir: '/x/data', host: '127.0.0.1', port: 9390 });
    expect(spec.command).toContain('--web.listen-address=127.0.0.1:9390');
    expect(spec.healthUrl).toBe('http://127.0.0.1:9390/-/ready');
  });
});
