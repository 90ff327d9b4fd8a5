import type { Dataset } from '@assay/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { client } from '../api';
import { FormFooter, Modal, Queried, ScorerChecklist } from '../components';

/** Picks the scorers a run of this dataset gets when its trigger names none (`scorerIds` of the dataset). */
export function DefaultScorersDialog({ dataset, onClose }: { dataset: Dataset; onClose: () => void }) {
  const scorers = useQuery({ queryKey: ['scorers'], queryFn: () => client.listScorers() });
  const [picked, setPicked] = useState<string[]>(dataset.scorerIds ?? []);
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: () => client.updateDataset(dataset.id, { scorerIds: picked.length ? picked : null }),
    onSuccess: (ds) => {
      qc.setQueryData(['dataset', dataset.id], ds);
      qc.invalidateQueries({ queryKey: ['datasets'] });
      onClose();
    },
  });
  const known = new Set((scorers.data ?? []).map((s) => s.id));
  const unknown = picked.filter((id) => scorers.data && !known.has(id));
  return (
    <Modal title="Default scorers" onClose={onClose}>
      <Queried query={scorers}>
        {(data) => (
          <form
            className="form"
            onSubmit={(e) => {
              e.preventDefault();
              save.mutate();
            }}
          >
            <p className="muted small">
              A run started without scorers (from the API, the SDK or <code>assay run</code> without{' '}
              <code>--scorer</code>) uses these; the run dialog starts with them checked.
            </p>
            <ScorerChecklist scorers={data} picked={picked} onChange={setPicked} />
            {unknown.length > 0 && (
              <div className="error" role="alert">
                Not configured on this server: {unknown.join(', ')}. Runs without scorers are refused until you uncheck
                them here or add them to the config.
                {unknown.map((id) => (
                  <label key={id} className="check">
                    <input type="checkbox" checked onChange={() => setPicked(picked.filter((x) => x !== id))} />
                    {id}
                  </label>
                ))}
              </div>
            )}
            <FormFooter mutation={save} onCancel={onClose} label="Save" busyLabel="Saving…" />
          </form>
        )}
      </Queried>
    </Modal>
  );
}
