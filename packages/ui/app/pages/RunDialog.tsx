import type { Dataset, TriggerRunInput } from '@assay/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useLocation } from 'wouter';
import { client } from '../api';
import { ErrorBox, FormFooter, Loading, Modal, NumberField, ScorerChecklist } from '../components';

/** Trigger a run; closes as soon as the API answers 202 and opens the run page (which shows `pending`). */
export function RunDialog({ dataset, onClose }: { dataset: Dataset; onClose: () => void }) {
  const targets = useQuery({ queryKey: ['targets'], queryFn: () => client.listTargets() });
  const scorers = useQuery({ queryKey: ['scorers'], queryFn: () => client.listScorers() });
  const [targetId, setTargetId] = useState('');
  // The dataset's default scorers start checked (those this server knows).
  const [picked, setPicked] = useState<string[] | null>(null);
  const known = new Set((scorers.data ?? []).map((s) => s.id));
  const scorerIds = picked ?? (dataset.scorerIds ?? []).filter((id) => known.has(id));
  const [passThreshold, setPassThreshold] = useState('0.5');
  const [version, setVersion] = useState(String(dataset.version));
  const [concurrency, setConcurrency] = useState('10');
  const [repetitions, setRepetitions] = useState('1');
  const [timeoutS, setTimeoutS] = useState('60');
  const [name, setName] = useState('');
  // '' sends no `cache`: the target's config decides (else off). No option text says "target":
  // a select's label includes its options, and "Target" must name one field only.
  const [cache, setCache] = useState<'' | NonNullable<TriggerRunInput['cache']>>('');
  const [, navigate] = useLocation();
  const qc = useQueryClient();
  const target = targetId || targets.data?.[0]?.id || '';
  const trigger = useMutation({
    mutationFn: () =>
      client.triggerRun(dataset.id, {
        targetId: target,
        scorerIds,
        version: Number(version),
        maxConcurrency: Number(concurrency),
        repetitions: Number(repetitions),
        itemTimeoutMs: Math.round(Number(timeoutS) * 1000),
        passThreshold: Number(passThreshold),
        name: name || undefined,
        cache: cache || undefined,
      }),
    onSuccess: (run) => {
      const { runId: _r, ...visible } = run;
      qc.setQueryData(['run', dataset.id, run.runId], visible);
      qc.invalidateQueries({ queryKey: ['runs', dataset.id] });
      onClose();
      navigate(`/datasets/${dataset.id}/runs/${run.runId}`);
    },
  });
  return (
    <Modal title="New run" onClose={onClose}>
      {targets.isPending || scorers.isPending ? (
        <Loading />
      ) : targets.isError ? (
        <ErrorBox error={targets.error} onRetry={() => targets.refetch()} />
      ) : scorers.isError ? (
        <ErrorBox error={scorers.error} onRetry={() => scorers.refetch()} />
      ) : (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            trigger.mutate();
          }}
        >
          <label>
            Target
            <select value={target} onChange={(e) => setTargetId(e.target.value)} required>
              {targets.data.length === 0 && <option value="">No targets configured</option>}
              {targets.data.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.id} ({t.kind && t.kind !== 'function' ? t.kind : t.type})
                  {t.description ? ` — ${t.description}` : ''}
                </option>
              ))}
            </select>
          </label>
          <ScorerChecklist scorers={scorers.data} picked={scorerIds} onChange={setPicked} />
          <div className="grid3">
            <NumberField label="Dataset version" min={0} max={dataset.version} value={version} onChange={setVersion} />
            <NumberField label="Concurrency" min={1} max={1000} value={concurrency} onChange={setConcurrency} />
            <NumberField label="Repetitions" min={1} max={100} value={repetitions} onChange={setRepetitions} />
            <NumberField label="Item timeout (s)" min={0.001} step="any" value={timeoutS} onChange={setTimeoutS} />
            <NumberField
              label="Pass threshold"
              min={0}
              max={1}
              step="any"
              value={passThreshold}
              onChange={setPassThreshold}
            />
            <label>
              Name (optional)
              <input value={name} onChange={(e) => setName(e.target.value)} />
            </label>
          </div>
          <label>
            Cache
            <select value={cache} onChange={(e) => setCache(e.target.value as typeof cache)}>
              <option value="">as configured (else off)</option>
              <option value="off">off — no cache</option>
              <option value="read">read — reuse stored outputs</option>
              <option value="write">write — store new outputs</option>
              <option value="readwrite">readwrite — reuse and store</option>
            </select>
          </label>
          <FormFooter
            mutation={trigger}
            onCancel={onClose}
            label="Start run"
            busyLabel="Starting…"
            disabled={!target}
          />
        </form>
      )}
    </Modal>
  );
}
