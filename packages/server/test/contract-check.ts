import { isDeepStrictEqual } from 'node:util';
import { matchRoute, type RouteDef, responseSchemaFor } from '@assay/core/api';

/** A route of the table, matched by method and path (literal segments win over `:params`). */
export const routeOf = (method: string, url: string): RouteDef | undefined => matchRoute(method, url)?.route;

/**
 * Checks one answer against the contract, exactly: every field the schema names as it says, and
 * no other field. Throws with the offending fields when it does not match.
 */
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
  // Parsing drops keys the schema does not name: a body with more than the contract says differs.
  if (!isDeepStrictEqual(r.data, body)) {
    throw new Error(
      `${method} ${url} → ${status}: the body has fields the contract does not name\n  sent:     ${JSON.stringify(body)?.slice(0, 400)}\n  contract: ${JSON.stringify(r.data)?.slice(0, 400)}`,
    );
  }
}
