import { library } from '../../scripts/build/tsdown-base.ts';

// One output file per source module (no shared chunks): `values` is both an entry and a part of
// the index, and each keeps its own declarations and export names.
export default library({ index: 'src/index.ts', values: 'src/values.ts' }, { platform: 'neutral', unbundle: true });
