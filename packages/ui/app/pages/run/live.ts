import type { Run } from '@assay/client';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { client, FINAL } from '../../api';

type Mode = 'connecting' | 'live' | 'polling' | 'idle';

/**
 * Keeps the cached run current while it is pending or running: Server-Sent Events, and polling
 * every 2 s whenever the stream is down (or silent, e.g. a worker in another process).
 */
export function useLiveRun(datasetId: string, runId: string, active: boolean) {
  const qc = useQueryClient();
  const [mode, setMode] = useState<Mode>(active ? 'connecting' : 'idle');
  const lastEvent = useRef(0);
  const modeRef = useRef<Mode>(mode);
  useEffect(() => {
    const key = ['run', datasetId, runId];
    const set = (m: Mode) => {
      modeRef.current = m;
      setMode(m);
    };
    if (!active) {
      set('idle');
      return;
    }
    set('connecting');
    const ctrl = new AbortController();
    const patch = (fn: (r: Run) => Run) => qc.setQueryData<Run>(key, (old) => (old ? fn(old) : old));
    const finished = () => {
      qc.invalidateQueries({ queryKey: key });
      qc.invalidateQueries({ queryKey: ['results', datasetId, runId] });
      qc.invalidateQueries({ queryKey: ['scores', datasetId, runId] });
      qc.invalidateQueries({ queryKey: ['runs', datasetId] });
    };
    (async () => {
      try {
        for await (const e of client.streamRun(datasetId, runId, {
          signal: ctrl.signal,
          reconnect: { giveUpAfterMs: Number.POSITIVE_INFINITY, maxDelayMs: 5000 },
          onReconnect: () => set('polling'),
        })) {
          lastEvent.current = Date.now();
          if (modeRef.current !== 'live') set('live');
          if (e.type === 'run') {
            qc.setQueryData(key, e.run);
            // The run ended before the stream opened (a fast run): what the page read meanwhile is stale.
            if (FINAL.has(e.run.status)) finished();
          } else if (e.type === 'run.progress')
            patch((r) => ({ ...r, succeededCount: e.succeeded, failedCount: e.failed, totalItems: e.total }));
          else if (e.type === 'run.status') {
            patch((r) => ({ ...r, status: e.status, error: e.error ?? r.error }));
            if (FINAL.has(e.status)) finished();
          } else if (e.type === 'run.cancel') patch((r) => ({ ...r, cancelRequestedAt: new Date().toISOString() }));
        }
      } catch {
        if (!ctrl.signal.aborted) set('polling');
      }
    })();
    const poll = setInterval(async () => {
      if (modeRef.current === 'live' && Date.now() - lastEvent.current < 2000) return;
      try {
        const r = await client.getRun(datasetId, runId, { signal: ctrl.signal });
        qc.setQueryData(key, r);
        if (FINAL.has(r.status)) finished();
      } catch {
        // the next tick tries again; the page keeps showing the last known state
      }
    }, 2000);
    return () => {
      ctrl.abort();
      clearInterval(poll);
    };
  }, [datasetId, runId, active, qc]);
  return mode;
}

/** Items per second over the last ~15 s of progress, and the ETA from it. */
export function useRate(run: Run | undefined) {
  const samples = useRef<{ t: number; done: number }[]>([]);
  const done = run ? run.succeededCount + run.failedCount : 0;
  const now = Date.now();
  const s = samples.current;
  if (run && (s.length === 0 || s[s.length - 1]!.done !== done)) s.push({ t: now, done });
  while (s.length > 2 && now - s[0]!.t > 15_000) s.shift();
  if (!run || FINAL.has(run.status)) {
    if (run?.startedAt && run.completedAt) {
      const secs = (Date.parse(run.completedAt) - Date.parse(run.startedAt)) / 1000;
      return { rate: secs > 0 ? done / secs : null, eta: null };
    }
    return { rate: null, eta: null };
  }
  let rate: number | null = null;
  if (s.length >= 2) {
    const a = s[0]!;
    const b = s[s.length - 1]!;
    if (b.t > a.t) rate = ((b.done - a.done) * 1000) / (b.t - a.t);
  } else if (run.startedAt) {
    const secs = (now - Date.parse(run.startedAt)) / 1000;
    if (secs > 0.5 && done > 0) rate = done / secs;
  }
  const left = Math.max(0, run.totalItems - done);
  return { rate, eta: rate && rate > 0 ? left / rate : null };
}
