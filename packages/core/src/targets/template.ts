import { TargetError } from '../errors.js';

/**
 * What a template sees of one item. `{{input}}`, `{{input.question}}`, `{{groundTruth}}`,
 * `{{metadata.lang}}`, `{{itemId}}`, `{{runId}}`; any other first name is a field of the input, so
 * `{{question}}` is `{{input.question}}`. `{{input | json}}` inserts a value as JSON text.
 */
export interface TemplateScope {
  input: unknown;
  groundTruth?: unknown;
  metadata?: Record<string, unknown> | null;
  itemId?: string;
  runId?: string;
}

/** What templates of a target call see: the input and the item's fields. */
export const scopeOf = (
  input: unknown,
  ctx: { item: { id: string; groundTruth: unknown; metadata: Record<string, unknown> | null }; runId: string },
): TemplateScope => ({
  input,
  groundTruth: ctx.item.groundTruth,
  metadata: ctx.item.metadata,
  itemId: ctx.item.id,
  runId: ctx.runId,
});

const ROOTS = new Set(['input', 'groundTruth', 'metadata', 'itemId', 'runId']);
const TAG = /\{\{\s*([A-Za-z_$][\w$-]*(?:\.[\w$-]+)*)\s*(?:\|\s*(json)\s*)?\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z_$][\w$-]*(?:\.[\w$-]+)*)\s*(?:\|\s*(json)\s*)?\}\}$/;

function lookup(scope: TemplateScope, path: string): unknown {
  const parts = path.split('.');
  let at = 'input';
  let value: unknown = scope.input;
  if (ROOTS.has(parts[0]!)) {
    at = parts.shift()!;
    value = (scope as unknown as Record<string, unknown>)[at];
  }
  for (const key of parts) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) {
      throw new TargetError(`template {{${path}}}: ${at} has no field '${key}'`, {
        retryable: false,
        code: 'TEMPLATE_ERROR',
      });
    }
    value = (value as Record<string, unknown>)[key];
    at = `${at}.${key}`;
  }
  return value;
}

/** Text of a value inside a text template: strings as they are, anything else as JSON. */
const asText = (v: unknown, json: boolean) => (typeof v === 'string' && !json ? v : (JSON.stringify(v) ?? 'null'));

/** Fills `{{…}}` tags in a string. A path the item lacks is a permanent (non-retryable) error. */
export function renderText(template: string, scope: TemplateScope): string {
  return template.replace(TAG, (_, path: string, json?: string) => asText(lookup(scope, path), Boolean(json)));
}

/**
 * Fills a JSON template: every string in it is a text template, and a string that is exactly one
 * tag (`"{{input.messages}}"`) is replaced by the value itself, keeping its type.
 */
export function renderJson(template: unknown, scope: TemplateScope): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole) return whole[2] ? JSON.stringify(lookup(scope, whole[1]!)) : lookup(scope, whole[1]!);
    return renderText(template, scope);
  }
  if (Array.isArray(template)) return template.map((v) => renderJson(v, scope));
  if (typeof template === 'object' && template !== null)
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderJson(v, scope)]));
  return template;
}

/** The tag paths a template uses (for start-up checks and docs). */
export function templatePaths(template: unknown): string[] {
  const out: string[] = [];
  const walk = (t: unknown) => {
    if (typeof t === 'string') for (const m of t.matchAll(TAG)) out.push(m[1]!);
    else if (Array.isArray(t)) t.forEach(walk);
    else if (typeof t === 'object' && t !== null) Object.values(t).forEach(walk);
  };
  walk(template);
  return out;
}

/**
 * Resolves an RFC 6901 JSON Pointer (`/choices/0/message/content`; `''` is the whole document).
 * Returns `{ found: false }` when a step is missing.
 */
export function jsonPointer(
  doc: unknown,
  pointer: string,
): { found: true; value: unknown } | { found: false; at: string } {
  if (pointer === '') return { found: true, value: doc };
  let value = doc;
  let at = '';
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    at += `/${raw}`;
    if (Array.isArray(value)) {
      if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= value.length) return { found: false, at };
      value = value[Number(key)];
    } else if (typeof value === 'object' && value !== null && Object.hasOwn(value, key)) {
      value = (value as Record<string, unknown>)[key];
    } else return { found: false, at };
  }
  return { found: true, value };
}

/** Checks a JSON Pointer's syntax (it must be '' or start with '/'). */
export const isJsonPointer = (p: unknown): p is string => typeof p === 'string' && (p === '' || p.startsWith('/'));

const ENV = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${env:NAME}` references; a variable that is not set is an error naming it. */
export function resolveEnv(text: string, env: Record<string, string | undefined>, where: string): string {
  return text.replace(ENV, (_, name: string) => {
    const v = env[name];
    if (v === undefined) throw new Error(`${where} uses \${env:${name}}, but environment variable ${name} is not set`);
    return v;
  });
}
