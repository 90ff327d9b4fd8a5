import { hasTruncated, type ListedResult, type RunResult } from '@assay/client';
import { useQuery } from '@tanstack/react-query';
import { client, fmt } from '../../api';
import { Drawer, ErrorBox, Json, Queried, Status, Table } from '../../components';
import { CachedFrom } from './CacheLine';

function Usage({ result }: { result: RunResult }) {
  const r = result as RunResult & { usage?: Record<string, unknown> | null; cost?: unknown; costUsd?: unknown };
  const entries = Object.entries(r.usage ?? {}).filter(([, v]) => v !== null && v !== undefined);
  if (r.cost !== undefined && r.cost !== null) entries.push(['cost', r.cost]);
  if (r.costUsd !== undefined && r.costUsd !== null) entries.push(['costUsd', r.costUsd]);
  if (entries.length === 0) return null;
  return (
    <>
      <h3>Tokens and cost</h3>
      <dl className="kv">
        {entries.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

type ToolCall = { id?: unknown; name?: unknown; args?: unknown };

/**
 * What the target reported beside its output (`ctx.reportTrace`): an agent's tool calls as a
 * table, its trace id, and the whole trace as JSON.
 */
function Trace({ trace }: { trace: unknown }) {
  if (trace === null || trace === undefined) return null;
  const t = (typeof trace === 'object' ? trace : {}) as { toolCalls?: unknown; traceId?: unknown };
  const calls = Array.isArray(t.toolCalls) ? (t.toolCalls as ToolCall[]) : [];
  return (
    <>
      <h3>Trace</h3>
      {typeof t.traceId === 'string' && (
        <p className="small" data-testid="trace-id">
          trace id <span className="mono">{t.traceId}</span>
        </p>
      )}
      {calls.length > 0 && (
        <Table label="Tool calls" className="table compact" columns={['Tool', 'Arguments']}>
          {calls.map((c, i) => (
            <tr key={typeof c.id === 'string' ? c.id : i}>
              <td className="mono">{String(c.name ?? '?')}</td>
              <td className="small mono">{JSON.stringify(c.args ?? null)}</td>
            </tr>
          ))}
        </Table>
      )}
      <Json value={trace} label="Trace" />
    </>
  );
}

/** What a scorer's judge spent on this score (tokens, and cost when known). */
function JudgeSpent({ usage }: { usage: NonNullable<RunResult['scores'][number]['usage']> }) {
  const tokens =
    usage.inputTokens !== null || usage.outputTokens !== null
      ? `${usage.inputTokens ?? 0} + ${usage.outputTokens ?? 0} tokens`
      : null;
  const cost = usage.costUsd !== null ? `$${usage.costUsd.toFixed(6)}` : null;
  return (
    <span className="muted" data-testid="score-usage">
      {' '}
      · judge: {[tokens, cost].filter(Boolean).join(', ')}
    </span>
  );
}

export function ResultDrawer({
  datasetId,
  runId,
  result: listed,
  onClose,
}: {
  datasetId: string;
  runId: string;
  result: ListedResult;
  onClose: () => void;
}) {
  // A results page cuts large values to markers: the drawer reads the whole result.
  const cut = hasTruncated(listed);
  const full = useQuery({
    queryKey: ['result', datasetId, runId, listed.itemId, listed.repetition],
    queryFn: () => client.getRunResult(datasetId, runId, listed.itemId, { repetition: listed.repetition }),
    enabled: cut,
  });
  const result: ListedResult = full.data ?? listed;
  const attempts = useQuery({
    queryKey: ['attempts', datasetId, runId, result.itemId],
    queryFn: () => client.listItemAttempts(datasetId, runId, result.itemId),
  });
  const err = result.error as (ListedResult['error'] & { stack?: string }) | null;
  return (
    <Drawer
      title={`Item ${result.externalId ?? result.itemId}${result.repetition ? ` · repetition ${result.repetition}` : ''}`}
      onClose={onClose}
    >
      <dl className="kv">
        <div>
          <dt>Status</dt>
          <dd>
            <Status status={result.status} />
          </dd>
        </div>
        <div>
          <dt>Latency</dt>
          <dd>{fmt.ms(result.latencyMs)}</dd>
        </div>
        <div>
          <dt>Attempt</dt>
          <dd>{result.attempt}</dd>
        </div>
        <div>
          <dt>Worker</dt>
          <dd className="small">{result.workerId ?? '—'}</dd>
        </div>
      </dl>
      {result.cached && (
        <p className="small">
          <CachedFrom datasetId={datasetId} from={result.cachedFrom} onOpen={onClose} />
        </p>
      )}
      {err && (
        <div className="error" data-testid="result-error">
          <strong>{err.code}</strong>: {fmt.text(err.message)} {err.retryable ? '(retryable)' : ''}
          {err.stack && <pre className="json">{err.stack}</pre>}
        </div>
      )}
      {cut && full.isPending && <p className="muted">Loading the full values…</p>}
      {cut && full.isError && <ErrorBox error={full.error} onRetry={() => full.refetch()} />}
      <h3>Input</h3>
      <Json value={result.input} label="Input" />
      <h3>Ground truth</h3>
      <Json value={result.groundTruth} label="Ground truth" />
      <h3>Output</h3>
      <Json value={result.output} label="Output" />
      <Trace trace={result.trace} />
      <h3>Scores</h3>
      {result.scores.length === 0 ? (
        <p className="muted">No scores.</p>
      ) : (
        <Table label="Scores" className="table compact" columns={['Scorer', { label: 'Score', num: true }, 'Reason']}>
          {result.scores.map((s) => (
            <tr key={s.scorerId}>
              <td>{s.scorerId}</td>
              <td className="num">{fmt.num(s.score)}</td>
              <td className="small">
                {s.error ? <span className="danger">error: {fmt.text(s.error)}</span> : (fmt.text(s.reason) ?? '—')}
                {s.usage && <JudgeSpent usage={s.usage} />}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <Usage result={result as RunResult} />
      <h3>Attempts</h3>
      <Queried query={attempts}>
        {(data) => (
          <Table
            label="Attempts"
            className="table compact"
            columns={[
              { label: '#', num: true },
              'Rep.',
              'Status',
              'Error',
              { label: 'Latency', num: true },
              'Completed',
            ]}
          >
            {data.attempts.map((a) => (
              <tr key={`${a.repetition}-${a.attempt}-${a.current}`}>
                <td className="num">
                  {a.attempt}
                  {a.current ? ' (current)' : ''}
                </td>
                <td>{a.repetition}</td>
                <td>
                  <Status status={a.status} />
                </td>
                <td className="small">{a.error ? `${a.error.code}: ${fmt.text(a.error.message)}` : '—'}</td>
                <td className="num">{fmt.ms(a.latencyMs)}</td>
                <td className="small">{fmt.date(a.completedAt)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Queried>
    </Drawer>
  );
}
