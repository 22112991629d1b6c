/**
 * The Chaos view's rule form: what a person types (strings from inputs) to the body of `POST /control/chaos/rules`,
 * with the problems named before anything is sent (the control plane checks again and answers 422 the same way).
 */
import type { ChaosKind, LinkFaultKind, NewChaosRule } from '../api/types.ts';

export type RuleForm = {
  kind: ChaosKind;
  /** Which target field: a service's messages, a dependency (HTTP calls), or a route. */
  on: 'service' | 'dependency' | 'route';
  service: string;
  messageType: string;
  dependency: string;
  route: string;
  /** Percent, 0–100. */
  probability: string | number;
  latencyMin: string | number;
  latencyMax: string | number;
  status: string | number;
  /** For a redis rule: what goes wrong with the service's Redis calls. */
  fault: LinkFaultKind;
  durationS: string | number;
  note: string;
};

const FAULT_WORDS: Record<LinkFaultKind, string> = {
  fail: 'fail before they are sent',
  'drop-reply': 'replies lost after they ran',
  reset: 'connection resets',
  latency: 'slow',
  stall: 'connection stalls',
};

export const EMPTY_FORM: RuleForm = {
  kind: 'error',
  on: 'service',
  service: 'inventory',
  messageType: '',
  dependency: 'provider',
  route: '',
  probability: '50',
  latencyMin: '200',
  latencyMax: '800',
  status: '503',
  fault: 'drop-reply',
  durationS: '60',
  note: '',
};

/**
 * @example
 * ruleFromForm({ ...EMPTY_FORM, kind: 'latency', service: 'inventory' });
 * // { rule: { kind: 'latency', target: { service: 'inventory' }, probability: 0.5, latencyMs: { min: 200, max: 800 }, durationMs: 60000 }, problems: [] }
 */
export function ruleFromForm(f: RuleForm): { rule: NewChaosRule | null; problems: string[] } {
  const problems: string[] = [];
  // Number inputs bound in Svelte hand back numbers, text inputs strings: read both.
  const text = (v: string | number | null | undefined) => String(v ?? '').trim();
  const num = (v: string | number) => (text(v) === '' ? Number.NaN : Number(v));
  f = { ...f, service: text(f.service), messageType: text(f.messageType), dependency: text(f.dependency), route: text(f.route), note: text(f.note) };
  const target: NewChaosRule['target'] = {};
  if (f.on === 'service') {
    if (!f.service.trim()) problems.push('name the service');
    target.service = f.service.trim();
    if (f.messageType.trim()) target.messageType = f.messageType.trim();
  } else if (f.on === 'dependency') {
    if (!f.dependency.trim()) problems.push('name the dependency');
    target.dependency = f.dependency.trim();
    if (f.service.trim()) target.service = f.service.trim();
  } else {
    if (!f.route.trim().startsWith('/')) problems.push('a route starts with /');
    target.route = f.route.trim();
    if (f.service.trim()) target.service = f.service.trim();
  }
  if (f.kind === 'pause' && f.on !== 'service') problems.push('a pause rule targets a service');
  if (f.kind === 'redis' && (f.on !== 'service' || target.messageType)) problems.push("a redis rule targets a service (its connections to Redis), not a message type");
  if ((f.kind === 'drop' || f.kind === 'duplicate') && f.on !== 'service') problems.push(`a ${f.kind} rule targets a service's messages`);
  const p = num(f.probability);
  if (!(p >= 0 && p <= 100)) problems.push('probability is a percentage, 0–100');
  const d = num(f.durationS);
  if (!(d > 0 && d <= 3600)) problems.push('duration is 1–3600 s');
  const rule: NewChaosRule = { kind: f.kind, target, probability: p / 100, durationMs: Math.round(d * 1000) };
  if (f.kind === 'latency' || f.kind === 'delay') {
    const min = num(f.latencyMin);
    const max = num(f.latencyMax);
    if (!(min >= 0 && max >= min && max <= 60_000)) problems.push('latency needs 0 ≤ min ≤ max ≤ 60000 ms');
    rule.latencyMs = { min, max };
  }
  if (f.kind === 'error' && f.on !== 'service' && text(f.status)) {
    const status = num(f.status);
    if (!(Number.isInteger(status) && status >= 400 && status <= 599)) problems.push('status is an HTTP error status, 400–599');
    rule.status = status;
  }
  if (f.kind === 'redis') rule.fault = f.fault;
  if (f.note.trim()) rule.note = f.note.trim();
  return { rule: problems.length ? null : rule, problems };
}

/**
 * A rule's target in words: "dependency provider (from payment)", "inventory messages reserve", and for a redis
 * rule "inventory's Redis calls: replies lost".
 */
export function targetWords(t: { service?: string; messageType?: string; route?: string; dependency?: string }, fault?: LinkFaultKind): string {
  if (fault) return `${t.service ?? '?'}'s Redis calls: ${FAULT_WORDS[fault]}`;
  if (t.dependency) return `dependency ${t.dependency}${t.service ? ` (from ${t.service})` : ''}`;
  if (t.route) return `route ${t.route}${t.service ? ` on ${t.service}` : ''}`;
  return `${t.service ?? '?'} messages${t.messageType ? ` ${t.messageType}` : ''}`;
}
