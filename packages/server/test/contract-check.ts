import { errorSchema, type RouteDef, routes } from '@assay/core/api';
import type { z } from 'zod';

/** A route of the table, matched by method and path (literal segments win over `:params`). */
export function routeOf(method: string, url: string): RouteDef | undefined {
  const path = url.split('?')[0]!.replace(/^\/api(?=\/|$)/, '') || '/';
  let best: { route: RouteDef; literals: number } | undefined;
  for (const route of Object.values(routes) as RouteDef[]) {
    if (route.method !== method.toLowerCase()) continue;
    const want = route.path.split('/');
    const got = path.split('/');
    if (want.length !== got.length) continue;
    if (!want.every((seg, i) => (seg.startsWith(':') ? got[i] !== '' : seg === got[i]))) continue;
    const literals = want.filter((s) => !s.startsWith(':')).length;
    if (!best || literals > best.literals) best = { route, literals };
  }
  return best?.route;
}

/**
 * The schema an API answer must satisfy: the route's response at its success status (or one of
 * its other declared statuses), the error envelope for any 4xx/5xx. Undefined for what the
 * contract does not describe: event streams, the UI's static files, 204s.
 */
export function schemaFor(method: string, url: string, status: number): z.ZodType | undefined {
  if (!/^\/api(\/|$)/.test(url)) return undefined;
  const route = routeOf(method, url);
  if (route?.otherResponses?.[status]) return route.otherResponses[status];
  if (status >= 400) return errorSchema;
  if (!route || route.stream || method.toUpperCase() === 'HEAD' || method.toUpperCase() === 'OPTIONS') return undefined;
  if (status !== route.status)
    throw new Error(`${method} ${url} answered ${status}; the contract says ${route.status}`);
  return route.response;
}

/** Checks one answer against the contract; throws with the offending fields when it does not match. */
export function checkResponse(method: string, url: string, status: number, body: unknown): void {
  const schema = schemaFor(method, url, status);
  if (!schema) return;
  const r = schema.safeParse(body);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(
      `${method} ${url} → ${status}: the body does not match the contract: ${issues.join('; ')}\n${JSON.stringify(body)?.slice(0, 500)}`,
    );
  }
}
