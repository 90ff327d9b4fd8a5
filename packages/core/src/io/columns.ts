/**
 * Column (CSV) and key (JSONL) → item field mapping, shared by the CLI and the UI. A target is a
 * path: `input`, `input.KEY`, `groundTruth`, `groundTruth.KEY`, `metadata`, `metadata.KEY`,
 * `externalId`, or `ignore`. By default a column maps to the target its name spells (`input.question`,
 * `metadata.region`, `ground_truth` …); an `id` column (what an export writes) is ignored, since
 * the server gives imported items new ids. Any other column is unknown until it is mapped.
 */

export type Field = 'input' | 'groundTruth' | 'metadata' | 'externalId';
export type Target = { field: Field; key?: string } | { field: 'ignore' };
/** Column (or JSONL key) → target path; a column left out maps by its name (`defaultTarget`). */
export type Mapping = Record<string, string>;

const FIELDS: Record<string, Field | 'ignore'> = {
  input: 'input',
  groundtruth: 'groundTruth',
  ground_truth: 'groundTruth',
  metadata: 'metadata',
  externalid: 'externalId',
  external_id: 'externalId',
  ignore: 'ignore',
};

/** The fields a column can name, for messages. */
export const COLUMNS_HELP =
  'input (or input.KEY …), groundTruth (or groundTruth.KEY …), metadata (a JSON object, or metadata.KEY …), externalId; an id column is ignored';

/** Parses a target path (`input`, `metadata.region`, `ignore` …); null when it names no field. */
export function parseTarget(path: string): Target | null {
  const p = path.trim();
  const dot = p.indexOf('.');
  const field = FIELDS[(dot < 0 ? p : p.slice(0, dot)).toLowerCase()];
  if (!field) return null;
  if (dot < 0) return { field };
  if (field === 'externalId' || field === 'ignore' || dot === p.length - 1) return null;
  return { field, key: p.slice(dot + 1) };
}

/** A target written back as a path (`groundTruth.answer`). */
export function targetPath(t: Target): string {
  return 'key' in t && t.key !== undefined ? `${t.field}.${t.key}` : t.field;
}

/** What a column maps to by its name alone: its own path, `ignore` for `id`, or null (unknown). */
export function defaultTarget(column: string): string | null {
  const c = column.trim();
  if (c.toLowerCase() === 'id') return 'ignore';
  const t = parseTarget(c);
  return t && t.field !== 'ignore' ? targetPath(t) : null;
}

const GUESSES: [Field, string[]][] = [
  ['input', ['question', 'prompt', 'query', 'text']],
  ['groundTruth', ['expected', 'answer', 'target', 'label', 'reference']],
  ['metadata', ['meta']],
  ['externalId', ['key', 'uid', 'uuid']],
];

/**
 * A mapping to offer for a column: its `defaultTarget`, else a guess from common names
 * (`question` → input, `expected` → groundTruth), else null. Only a suggestion: the UI shows it
 * preselected and the CLI names it in its error; neither applies it unasked.
 */
export function suggestTarget(column: string): string | null {
  const own = defaultTarget(column);
  if (own) return own;
  const c = column.toLowerCase().replace(/[^a-z]/g, '');
  return GUESSES.find(([, names]) => names.includes(c))?.[0] ?? null;
}

/**
 * The target of `column` under `path`. A bare `metadata` on a column not itself named metadata
 * means `metadata.<column>` (metadata is an object, so a plain cell can only be one of its keys).
 */
function resolve(column: string, path: string): Target | null {
  const t = parseTarget(path);
  if (t?.field === 'metadata' && t.key === undefined && column.trim().toLowerCase() !== 'metadata')
    return { field: 'metadata', key: column.trim() };
  return t;
}

/** The columns of a file resolved to targets, or why they cannot be. */
export interface ColumnPlan {
  /** One target per column, in order (null where the column is unknown or its mapping is not a path). */
  targets: (Target | null)[];
  /** Columns with no mapping whose name names no field. */
  unknown: string[];
  /** Mappings that are not paths, two columns on one target, a field given whole and by key. */
  errors: string[];
  /** Whether some column maps to input. */
  hasInput: boolean;
}

/** Resolves every column with `mapping` (a column left out maps by its name). */
export function planColumns(columns: readonly string[], mapping: Mapping = {}): ColumnPlan {
  const targets: (Target | null)[] = [];
  const unknown: string[] = [];
  const errors: string[] = [];
  const taken = new Map<string, string>();
  const whole = new Map<Field, string>();
  const keyed = new Map<Field, string>();
  for (const column of columns) {
    const path = Object.hasOwn(mapping, column) ? mapping[column]! : defaultTarget(column);
    if (path === null) {
      unknown.push(column);
      targets.push(null);
      continue;
    }
    const t = resolve(column, path);
    targets.push(t);
    if (!t) {
      errors.push(`column '${column}' is mapped to '${path}', which is not a field (${COLUMNS_HELP})`);
      continue;
    }
    if (t.field === 'ignore') continue;
    const p = targetPath(t);
    const first = taken.get(p);
    if (first !== undefined) errors.push(`columns '${first}' and '${column}' both map to ${p}`);
    taken.set(p, column);
    const has = 'key' in t && t.key !== undefined;
    (has ? keyed : whole).set(t.field, column);
    const other = (has ? whole : keyed).get(t.field);
    if (other !== undefined && other !== column) {
      const [w, k] = has ? [other, column] : [column, other];
      errors.push(`${t.field} is given whole (column '${w}') and by key (column '${k}'): use one or the other`);
    }
  }
  return { targets, unknown, errors, hasInput: whole.has('input') || keyed.has('input') };
}
