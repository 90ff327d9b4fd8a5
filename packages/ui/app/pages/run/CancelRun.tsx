import type { Run } from '@assay/client';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { client } from '../../api';
import { ErrorBox, Modal } from '../../components';

/**
 * The run page's **Cancel run** button. Cancelling cannot be undone, so it asks first, in a small
 * dialog of the page (not `window.confirm`): **Keep running** (or Esc) leaves the run alone.
 */
export function CancelRun({
  datasetId,
  run,
  onCancelled,
}: {
  datasetId: string;
  run: Run;
  /** The run as the cancel request answered it. */
  onCancelled: (r: Run) => void;
}) {
  const [asking, setAsking] = useState(false);
  const cancel = useMutation({
    mutationFn: () => client.cancelRun(datasetId, run.id),
    onSuccess: (r) => {
      setAsking(false);
      onCancelled(r);
    },
  });
  const left = Math.max(0, run.totalItems - run.succeededCount - run.failedCount - run.skippedCount);
  return (
    <>
      <button
        type="button"
        className="danger"
        disabled={cancel.isPending || !!run.cancelRequestedAt}
        onClick={() => setAsking(true)}
      >
        {run.cancelRequestedAt ? 'Cancelling…' : 'Cancel run'}
      </button>
      {asking && (
        <Modal title="Cancel this run?" onClose={() => setAsking(false)}>
          <p>
            {run.status === 'pending'
              ? 'The run has not started: it ends now, with no results.'
              : `The items still to run${run.totalItems ? ` (${left.toLocaleString()} of ${run.totalItems.toLocaleString()})` : ''} end as cancelled; the results so far (${(run.succeededCount + run.failedCount).toLocaleString()}) are kept.`}{' '}
            <strong>Retry failed</strong> can run the cancelled items later.
          </p>
          {cancel.isError && <ErrorBox error={cancel.error} />}
          <div className="actions">
            <button type="button" onClick={() => setAsking(false)}>
              Keep running
            </button>
            <button type="button" className="danger" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
              {cancel.isPending ? 'Cancelling…' : 'Yes, cancel run'}
            </button>
          </div>
        </Modal>
      )}
    </>
  );
}
