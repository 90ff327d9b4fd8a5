import type { Run } from '@assay/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useLocation } from 'wouter';
import { client } from '../../api';
import { ErrorBox, FormFooter, Loading, Modal, NumberField, ScorerChecklist } from '../../components';

/**
 * The run page's **Re-score…** button (finished runs): a dialog that picks scorers (the run's own
 * start checked, for a scorer whose code changed) and optionally a pass threshold, then starts a
 * new run that scores this run's stored outputs without calling the target, and opens its page.
 */
export function RescoreRun({ datasetId, run }: { datasetId: string; run: Run }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Re-score…
      </button>
      {open && <RescoreDialog datasetId={datasetId} run={run} onClose={() => setOpen(false)} />}
    </>
  );
}

function RescoreDialog({ datasetId, run, onClose }: { datasetId: string; run: Run; onClose: () => void }) {
  const scorers = useQuery({ queryKey: ['scorers'], queryFn: () => client.listScorers() });
  const [picked, setPicked] = useState<string[] | null>(null);
  const known = new Set((scorers.data ?? []).map((s) => s.id));
  const scorerIds = picked ?? run.scorerIds.filter((id) => known.has(id));
  const sourceThreshold = run.summary?.passThreshold ?? run.options.passThreshold ?? 0.5;
  // Empty keeps the source run's threshold (the API's default).
  const [threshold, setThreshold] = useState('');
  const [name, setName] = useState('');
  const [, navigate] = useLocation();
  const qc = useQueryClient();
  const rescore = useMutation({
    mutationFn: () =>
      client.rescore(datasetId, run.id, {
        scorerIds,
        passThreshold: threshold.trim() === '' ? undefined : Number(threshold),
        name: name.trim() || undefined,
      }),
    onSuccess: (created) => {
      const { runId, ...visible } = created;
      qc.setQueryData(['run', datasetId, runId], visible);
      qc.invalidateQueries({ queryKey: ['runs', datasetId] });
      onClose();
      navigate(`/datasets/${datasetId}/runs/${runId}`);
    },
  });
  return (
    <Modal title="Re-score this run" onClose={onClose}>
      {scorers.isPending ? (
        <Loading />
      ) : scorers.isError ? (
        <ErrorBox error={scorers.error} onRetry={() => scorers.refetch()} />
      ) : (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            rescore.mutate();
          }}
        >
          <p className="small">
            A new run scores the stored outputs of this run ({run.succeededCount.toLocaleString()} succeeded of{' '}
            {run.totalItems.toLocaleString()}) with the scorers you pick. <strong>No target is called</strong>: an item
            without an output here fails with <code>NO_SOURCE_OUTPUT</code>.
          </p>
          <ScorerChecklist scorers={scorers.data} picked={scorerIds} onChange={setPicked} />
          <div className="grid3">
            <NumberField
              label={`Pass threshold (default ${sourceThreshold})`}
              min={0}
              max={1}
              step="any"
              value={threshold}
              onChange={setThreshold}
            />
            <label>
              Name (optional)
              <input
                value={name}
                placeholder={`rescore of ${run.name ?? run.id}`}
                onChange={(e) => setName(e.target.value)}
              />
            </label>
          </div>
          <FormFooter
            mutation={rescore}
            onCancel={onClose}
            label="Start re-score"
            busyLabel="Starting…"
            disabled={scorerIds.length === 0}
          />
        </form>
      )}
    </Modal>
  );
}

/** A re-score's line under the title: the run whose stored outputs it scores, linked, and that no target is called. */
export function RescoreSource({ datasetId, sourceRunId }: { datasetId: string; sourceRunId: string }) {
  const source = useQuery({
    queryKey: ['run', datasetId, sourceRunId],
    queryFn: () => client.getRun(datasetId, sourceRunId),
  });
  return (
    <p className="small rescore-source" data-testid="rescore-source">
      Re-score of run{' '}
      <Link href={`/datasets/${datasetId}/runs/${sourceRunId}`} title={sourceRunId}>
        {source.data?.name ?? sourceRunId}
      </Link>
      : it scores that run's stored outputs; no target is called.
    </p>
  );
}
