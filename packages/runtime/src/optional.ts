/** The scale-out deployment's adapters, loaded only when the environment asks for them. */
import { importOptional } from '@assay/core';

export const loadPostgres = () =>
  importOptional(() => import('@assay/store/postgres'), ['pg'], 'PostgreSQL storage (ASSAY_DATABASE_URL)');

export const loadRedis = () =>
  importOptional(
    () => import('@assay/queue/redis'),
    ['bullmq', 'ioredis'],
    'The BullMQ job queue on Redis (ASSAY_REDIS_URL)',
  );
