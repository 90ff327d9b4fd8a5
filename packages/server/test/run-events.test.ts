/**
 * Core's live event stream of a run (`runEventStream`, behind `GET …/runs/:runId/events`) on a
 * real SQLite storage and the embedded bus: the state first, the bus's events as they come, the
 * stored row's changes the bus never carried, the end at a final status, and the SSE route's
 * events as the contract describes them.
 */
import { type RunStreamItem, runEventStream } from '@assay/core';
import { sseMessageSchema } from '@assay/core/api';
import { describe, expect, it } from 'vitest';
import { call, dataset, useAssay } from './helpers.js';

const start = useAssay();

async function pendingRun() {
  const assay = await start({ targets: [{ id: 'echo', type: 'function', run: (i) => i }] }, { worker: false });
  const ds = await dataset(assay, [{ input: 1 }, { input: 2 }]);
  const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'echo' });
  return { assay, ds, runId: trig.json.runId as string };
}

describe('runEventStream', () => {
  it('yields the state, then bus events, then what only the stored row shows, and ends at a final status', async () => {
    const { assay, ds, runId } = await pendingRun();
    const it = runEventStream({ storage: assay.storage, events: assay.events }, runId, { pollMs: 10 });
    const next = async () => (await it.next()).value as RunStreamItem;

    const first = await next();
    expect(first).toMatchObject({ type: 'run', run: { id: runId, status: 'pending', totalItems: 2 } });
    expect(first.type === 'run' && 'plannedAt' in first.run).toBe(false);

    const progress = { type: 'run.progress', runId, datasetId: ds, succeeded: 0, failed: 0, total: 2 } as const;
    const waiting = next();
    assay.events.publish(progress);
    expect(await waiting).toEqual(progress);
    const cancel = { type: 'run.cancel', runId, datasetId: ds } as const;
    const waitingCancel = next();
    assay.events.publish(cancel);
    expect(await waitingCancel).toEqual(cancel);

    // Written to the row only (a worker elsewhere, a lost pub/sub message): the stream catches up.
    await assay.storage.updateRun(runId, { status: 'running' });
    expect(await next()).toEqual({ type: 'run.status', runId, datasetId: ds, status: 'running', error: null });
    assay.events.publish({ type: 'run.status', runId, datasetId: ds, status: 'completed' });
    expect(await next()).toMatchObject({ type: 'run.status', status: 'completed' });
    expect((await it.next()).done).toBe(true);
  });

  it('a ping while nothing happens; the signal ends it and unsubscribes', async () => {
    const { assay, runId } = await pendingRun();
    let now = 0;
    const stop = new AbortController();
    const seen: RunStreamItem[] = [];
    let listeners = 0;
    const events = {
      publish: assay.events.publish,
      subscribe: (id: string, l: Parameters<typeof assay.events.subscribe>[1]) => {
        listeners++;
        const off = assay.events.subscribe(id, l);
        return () => {
          listeners--;
          off();
        };
      },
    };
    for await (const e of runEventStream({ storage: assay.storage, events }, runId, {
      pollMs: 5,
      pingMs: 100,
      // Every look at the clock is 30 ms later: quiet for 100 ms after four looks.
      now: () => (now += 30),
      signal: stop.signal,
    })) {
      seen.push(e);
      if (seen.filter((x) => x.type === 'ping').length === 2) stop.abort();
    }
    expect(seen[0]?.type).toBe('run');
    expect(seen.slice(1)).toEqual([{ type: 'ping' }, { type: 'ping' }]);
    expect(listeners).toBe(0);
  });

  it('the SSE route sends each event as the contract describes it', async () => {
    const assay = await start({ targets: [{ id: 'echo', type: 'function', run: (i) => i }] });
    const ds = await dataset(
      assay,
      Array.from({ length: 5 }, (_, n) => ({ input: n, groundTruth: n })),
    );
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'echo', scorerIds: ['exact-match'] });
    const res = await assay.app.request(`/api/datasets/${ds}/runs/${trig.json.runId}/events`);
    const text = await res.text(); // ends at the final status
    const messages = text
      .split('\n\n')
      .filter((m) => m.trim())
      .map((m) => {
        const event = /^event: (.*)$/m.exec(m)?.[1];
        const data = /^data: (.*)$/m.exec(m)?.[1];
        return { event, data: JSON.parse(data ?? 'null') };
      });
    expect(messages[0]?.event).toBe('run');
    expect(messages.at(-1)).toMatchObject({ event: 'run.status', data: { status: 'completed' } });
    for (const m of messages) expect(sseMessageSchema.safeParse(m).error).toBeUndefined();
  });
});
