import type { Run } from '@assay/client';
import { Link } from 'wouter';
import { usd } from './format';

/**
 * The target output cache's share of a run, under the progress: its mode, and once the run has
 * its summary the hits (target not called), target calls, entries stored, cost spent and cost
 * saved, and the scorers' model calls (an llm-judge's) made and answered from the cache. A run that asked for a cache its target cannot use says why (`options.cacheNotice`).
 */
export function CacheLine({ run }: { run: Run }) {
  const c = run.summary?.cache;
  const mode = c?.mode ?? run.options.cache;
  const notice = run.options.cacheNotice;
  if (!notice && (!mode || mode === 'off')) return null;
  return (
    <>
      {mode && mode !== 'off' && (
        <p className="cache-line small" data-testid="run-cache">
          <span className="tag cached">cache {mode}</span>{' '}
          {c ? (
            <>
              <strong>{c.hits.toLocaleString()}</strong> hit{c.hits === 1 ? '' : 's'} ·{' '}
              <strong>{c.misses.toLocaleString()}</strong> target call{c.misses === 1 ? '' : 's'} ·{' '}
              {c.stored.toLocaleString()} stored · {usd(c.costSpentUsd)} spent · {usd(c.costSavedUsd)} saved
              {c.modelCalls && c.modelCalls.made + c.modelCalls.reused > 0 && (
                <span data-testid="run-model-calls">
                  {' '}
                  · judge calls: <strong>{c.modelCalls.made.toLocaleString()}</strong> made,{' '}
                  <strong>{c.modelCalls.reused.toLocaleString()}</strong> from the cache
                </span>
              )}
            </>
          ) : (
            <span className="muted">hits and target calls are counted when the run ends</span>
          )}
        </p>
      )}
      {notice && (
        <p className="notice small" role="note" data-testid="cache-notice">
          {notice}
        </p>
      )}
    </>
  );
}

/** A cached result's mark: the run whose target call produced the output is the tooltip. */
export function CachedTag({ from }: { from: string | null }) {
  return (
    <span className="tag cached" title={from ? `output from run ${from} (target not called)` : 'output from the cache'}>
      cached
    </span>
  );
}

/** The drawer's line for a cached result: a link to the run that computed its output. */
export function CachedFrom({
  datasetId,
  from,
  onOpen,
}: {
  datasetId: string;
  from: string | null;
  onOpen: () => void;
}) {
  return (
    <span data-testid="cached-from">
      <CachedTag from={from} /> The target was not called for this result
      {from && (
        <>
          : its output, latency and usage are those of run{' '}
          <Link href={`/datasets/${datasetId}/runs/${from}`} className="mono" onClick={onOpen}>
            {from}
          </Link>
        </>
      )}
    </span>
  );
}
