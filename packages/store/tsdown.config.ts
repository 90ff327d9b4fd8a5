import { library } from '../../scripts/build/tsdown-base.ts';

// `postgres` is its own entry so that SQLite-only users never load (or install) `pg`.
// `ledger-thread-entry` is the SQLite ledger thread's entry; ledger-thread-bootstrap.mjs (copied as is) starts it.
export default library(
  {
    index: 'src/index.ts',
    postgres: 'src/postgres.ts',
    'ledger-thread-entry': 'src/dialect/sqlite/ledger-thread-entry.ts',
  },
  { copy: [{ from: 'src/dialect/sqlite/ledger-thread-bootstrap.mjs', to: 'dist' }] },
);
