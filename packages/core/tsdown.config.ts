import { library } from '../../scripts/build/tsdown-base.ts';

// `thread` is the worker threads' entry; bootstrap.mjs (copied as is) starts it in each thread.
export default library(
  { index: 'src/index.ts', api: 'src/api.ts', io: 'src/io/index.ts', thread: 'src/sandbox/thread.ts' },
  { copy: [{ from: 'src/sandbox/bootstrap.mjs', to: 'dist' }] },
);
