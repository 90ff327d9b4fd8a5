import { matchRoute, type RouteDef, responseSchemaFor } from '@assay/core/api';

/** A route of the table, matched by method and path (literal segments win over `:params`). */
export const routeOf = (method: string, url: string): RouteDef | undefined => matchRoute(method, url)?.route;

/** Checks one answer against the contract; throws with the offending fields when it does not match. */
export function checkResponse(method: string, url: string, status: number, body: unknown): void {
  const schema = responseSchemaFor(method, url, status);
  if (!schema) return;
  const r = schema.safeParse(body);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(
      `${method} ${url} → ${status}: the body does not match the contract: ${issues.join('; ')}\n${JSON.stringify(body)?.slice(0, 500)}`,
    );
  }
}
