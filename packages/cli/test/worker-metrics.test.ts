/**
 * `assay worker --metrics-port`: a worker serves no API, yet its item counters live in its
 * process, so it serves `/metrics` itself (behind ASSAY_API_KEY when set), and `/api/ready`. Here an API-only
 * server and a worker share one SQLite file, as two processes of one machine.
 */
import { freePort } from '@assay/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { type Spawned, spawnAssay, workspace } from './helpers.js';

const ws = workspace();
const running: Spawned[] = [];
afterAll(async () => {
  for (const s of running) s.child.kill('SIGKILL');
  await Promise.all(running.map((s) => s.done));
});

const KEY = 'worker-metrics-key-0123';
const auth = { authorization: `Bearer ${KEY}` };

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = await fn().catch(() => undefined as T);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: not within 20 s; last ${String(v).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('assay worker --metrics-port', () => {
  it("serves the worker's Prometheus metrics (the items it finished, behind the API key) and its readiness", async () => {
    const env = { ASSAY_API_KEY: KEY, ASSAY_LOG_FORMAT: 'json' };
    const api = spawnAssay(['serve', '--port', '0', '--no-worker', '--data-dir', 'shared'], ws.dir, env);
    running.push(api);
    const [, base] = await api.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const port = await freePort();
    const worker = spawnAssay(['worker', '--data-dir', 'shared', '--metrics-port', String(port)], ws.dir, env);
    running.push(worker);
    await worker.waitFor(/running up to/);
    const metrics = `http://127.0.0.1:${port}/metrics`;

    expect((await fetch(metrics)).status).toBe(401);
    // Its readiness is open, as the server's is (a container health check needs no key).
    const ready = await fetch(`http://127.0.0.1:${port}/api/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', storage: 'sqlite', queue: 'sqlite' });
    expect((await fetch(`http://127.0.0.1:${port}/api/datasets`)).status).toBe(404);

    const post = (path: string, body: unknown) =>
      fetch(`${base}/api${path}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<any>);
    const ds = await post('/datasets', { name: 'by-worker' });
    await post(`/datasets/${ds.id}/items/batch`, { items: Array.from({ length: 8 }, (_, i) => ({ input: i })) });
    const run = await post(`/datasets/${ds.id}/runs`, { targetId: 'echo' });
    expect(run.status).toBe('pending');

    const text = await until(
      () => fetch(metrics, { headers: auth }).then((r) => r.text()),
      (t) => t.includes('assay_runs{status="completed"} 1'),
      'the run to complete',
    );
    expect(text).toContain('assay_items_finished_total{target="echo",status="succeeded"} 8');
    // The API process ran no item: its counters stay at zero.
    const apiText = await fetch(`${base}/metrics`, { headers: auth }).then((r) => r.text());
    expect(apiText).not.toContain('assay_items_finished_total{');
    expect(apiText).toContain('assay_runs{status="completed"} 1');
  });
});
