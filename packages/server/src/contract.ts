import type { RouteDef, RouteId, Routes } from '@assay/core/api';
import { routes } from '@assay/core/api';
import type { Context, Hono } from 'hono';
import type { z } from 'zod';

/** What a handler of route `K` must answer: the input type of the contract's response schema. */
export type Reply<K extends RouteId> = z.input<Routes[K]['response']>;

/**
 * Registers the handler of one contract route on `api` (method and path from the route table),
 * so a route cannot exist without an entry, and its success body is type-checked against the
 * contract's response schema.
 *
 * @example on(api, 'getDataset', async (c) => dataset(c.req.param('id')))
 */
export function on<K extends RouteId>(
  api: Hono,
  id: K,
  handler: (c: Context<any, Routes[K]['path']>) => Promise<Reply<K> | Response> | Reply<K> | Response,
): void {
  const route: RouteDef = routes[id];
  api.on(route.method.toUpperCase(), route.path, async (c) => {
    const out = await handler(c);
    return out instanceof Response ? out : c.json(out as object, route.status);
  });
}
