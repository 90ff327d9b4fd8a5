import { library } from '../../scripts/build/tsdown-base.ts';

// `postgres` is its own entry so that SQLite-only users never load (or install) `pg`.
export default library({ index: 'src/index.ts', postgres: 'src/postgres.ts' });
