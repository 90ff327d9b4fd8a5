import { isTruncated } from '@assay/client';
import type { UseQueryResult } from '@tanstack/react-query';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { codeOf, detailsOf, messageOf, setApiKey } from './api';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** An API error with its message (and field details), never a blank page. */
export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const [key, setKey] = useState('');
  const code = codeOf(error);
  const details = detailsOf(error);
  return (
    <div className="error" role="alert">
      <strong>{code ? `${code}: ` : 'Error: '}</strong>
      {messageOf(error)}
      {Array.isArray(details) && details.length > 0 && (
        <ul>
          {details.slice(0, 20).map((d: { path?: string; message?: string }) => (
            <li key={`${d.path}-${d.message}`}>
              {d.path ? <code>{d.path}</code> : null} {d.message ?? JSON.stringify(d)}
            </li>
          ))}
        </ul>
      )}
      {code === 'UNAUTHORIZED' && (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            setApiKey(key);
            window.location.reload();
          }}
        >
          <label>
            API key <input type="password" value={key} onChange={(e) => setKey(e.target.value)} />
          </label>
          <button type="submit">Use key</button>
        </form>
      )}
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/**
 * A query's three states: {@link Loading} while pending, its error with Try again, and
 * `children(data)` once it has data.
 *
 * @example
 * <Queried query={q}>{(data) => <Items items={data.items} />}</Queried>
 */
export function Queried<T>({
  query,
  loading,
  children,
}: {
  query: UseQueryResult<T>;
  /** What the spinner says (default `Loading…`). */
  loading?: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Loading label={loading} />;
  if (query.isError) return <ErrorBox error={query.error} onRetry={() => query.refetch()} />;
  return children(query.data);
}

/**
 * A native modal `<dialog>` with a title bar and a close button: it opens as a modal when mounted
 * (focus moves inside, the page behind is inert), and Esc calls `onClose` instead of closing it.
 */
function ModalDialog({
  title,
  onClose,
  className,
  bodyClassName,
  children,
}: {
  title: string;
  onClose: () => void;
  className: string;
  bodyClassName: string;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={className}
      aria-label={title}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <header>
        <h2 className="dialog-title">{title}</h2>
        <button type="button" className="icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <div className={bodyClassName}>{children}</div>
    </dialog>
  );
}

/** A modal dialog (native `<dialog>`: focus moves inside, Esc closes, the page behind is inert). */
export function Modal({
  title,
  onClose,
  children,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  return (
    <ModalDialog title={title} onClose={onClose} className={wide ? 'modal wide' : 'modal'} bodyClassName="modal-body">
      {children}
    </ModalDialog>
  );
}

/** A side panel over the page (a modal dialog too, so it is keyboard reachable and Esc closes it). */
export function Drawer({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  return (
    <ModalDialog title={title} onClose={onClose} className="drawer" bodyClassName="drawer-body">
      {children}
    </ModalDialog>
  );
}

export function Pager({
  page,
  perPage,
  total,
  onPage,
}: {
  page: number;
  perPage: number;
  total: number;
  onPage: (p: number) => void;
}) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  return (
    <nav className="pager" aria-label="Pagination">
      <button type="button" disabled={page === 0} onClick={() => onPage(0)}>
        « First
      </button>
      <button type="button" disabled={page === 0} onClick={() => onPage(page - 1)}>
        ‹ Prev
      </button>
      <span>
        Page {page + 1} of {pages} · {total.toLocaleString()} rows
      </span>
      <button type="button" disabled={page + 1 >= pages} onClick={() => onPage(page + 1)}>
        Next ›
      </button>
      <button type="button" disabled={page + 1 >= pages} onClick={() => onPage(pages - 1)}>
        Last »
      </button>
    </nav>
  );
}

/** A column of a {@link Table}: its header text, right-aligned (`num`) for numbers. */
export type Column = string | { label: string; num?: boolean };

/** A table: one header row of `columns`, then the rows as `children`. */
export function Table({
  label,
  className = 'table',
  columns,
  children,
}: {
  /** The table's accessible name. */
  label: string;
  /** Its classes (default `table`). */
  className?: string;
  columns: Column[];
  children: ReactNode;
}) {
  return (
    <table className={className} aria-label={label}>
      <thead>
        <tr>
          {columns.map((c, i) =>
            typeof c === 'string' ? (
              // biome-ignore lint/suspicious/noArrayIndexKey: header cells are positional
              <th key={i}>{c}</th>
            ) : (
              // biome-ignore lint/suspicious/noArrayIndexKey: header cells are positional
              <th key={i} className={c.num ? 'num' : undefined}>
                {c.label}
              </th>
            ),
          )}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** A page of rows: a {@link Table} and the {@link Pager} under it. */
export function PagedTable({
  page,
  perPage,
  total,
  onPage,
  ...table
}: Parameters<typeof Table>[0] & { page: number; perPage: number; total: number; onPage: (p: number) => void }) {
  return (
    <>
      <Table {...table} />
      <Pager page={page} perPage={perPage} total={total} onPage={onPage} />
    </>
  );
}

export function Status({ status }: { status: string }) {
  return (
    <span className={`status status-${status}`} data-status={status}>
      {status}
    </span>
  );
}

export function Json({ value, label }: { value: unknown; label?: string }) {
  if (isTruncated(value)) {
    return (
      <pre className="json" data-label={label} data-truncated="true">
        {`${value.preview}…\n(${value.bytes.toLocaleString()} bytes in all)`}
      </pre>
    );
  }
  return (
    <pre className="json" data-label={label}>
      {value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** Bars of a score histogram over [0, 1]. */
export function Histogram({ bins, label }: { bins: number[]; label: string }) {
  const max = Math.max(1, ...bins);
  return (
    <div className="histogram" role="img" aria-label={`${label} score histogram: ${bins.join(', ')}`}>
      {bins.map((n, i) => (
        <div
          // biome-ignore lint/suspicious/noArrayIndexKey: bins are positional
          key={i}
          className="bar"
          title={`${(i / bins.length).toFixed(1)}–${((i + 1) / bins.length).toFixed(1)}: ${n}`}
          style={{ height: `${(n / max) * 100}%` }}
        />
      ))}
    </div>
  );
}

/** A checkbox per scorer, with its description; `picked` in the order they were checked. */
export function ScorerChecklist({
  scorers,
  picked,
  onChange,
}: {
  scorers: { id: string; description?: string | null }[];
  picked: string[];
  onChange: (ids: string[]) => void;
}) {
  return (
    <fieldset>
      <legend>Scorers</legend>
      {scorers.map((s) => (
        <label key={s.id} className="check">
          <input
            type="checkbox"
            checked={picked.includes(s.id)}
            onChange={(e) => onChange(e.target.checked ? [...picked, s.id] : picked.filter((x) => x !== s.id))}
          />
          {s.id}
          {s.description && <span className="muted small"> — {s.description}</span>}
        </label>
      ))}
    </fieldset>
  );
}

/** An inline labelled select (`name` is its accessible name); `onChange` gets the chosen value. */
export function InlineSelect({
  title,
  name,
  value,
  onChange,
  children,
}: {
  title: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  children: ReactNode;
}) {
  return (
    <label className="inline">
      {title}
      <select aria-label={name} value={value} onChange={(e) => onChange(e.target.value)}>
        {children}
      </select>
    </label>
  );
}

/** A labelled number input; its value stays the text as typed (the form parses it on submit). */
export function NumberField({
  label,
  value,
  onChange,
  min,
  max,
  step,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  min?: number;
  max?: number;
  step?: string;
}) {
  return (
    <label>
      {label}
      <input type="number" min={min} max={max} step={step} value={value} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}

/** The end of a dialog's form: the mutation's error, Cancel, and the submit button. */
export function FormFooter({
  mutation,
  onCancel,
  label,
  busyLabel,
  disabled = false,
}: {
  mutation: { isError: boolean; error: unknown; isPending: boolean };
  onCancel: () => void;
  label: string;
  busyLabel: string;
  disabled?: boolean;
}) {
  return (
    <>
      {mutation.isError && <ErrorBox error={mutation.error} />}
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={mutation.isPending || disabled}>
          {mutation.isPending ? busyLabel : label}
        </button>
      </div>
    </>
  );
}
