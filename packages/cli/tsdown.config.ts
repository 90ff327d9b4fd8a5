import { library } from '../../scripts/build/tsdown-base.ts';

// The `assay` binary: compiled JavaScript; it loads tsx only to import a TypeScript config.
export default library({ bin: 'src/bin.ts' }, { dts: false });
