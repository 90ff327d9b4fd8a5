import { library } from '../../scripts/build/tsdown-base.ts';

// `redis` is its own entry so that embedded users never load (or install) bullmq and ioredis.
export default library({ index: 'src/index.ts', redis: 'src/redis.ts' });
