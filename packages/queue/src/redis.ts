/**
 * The scale-out adapters (`@assay/queue/redis`): the BullMQ job queue, Redis pub/sub events and
 * Redis limits. Its own entry, since it needs `bullmq` and `ioredis`, optional peer dependencies
 * that embedded (SQLite-only) installs leave out.
 */
export { BullJobQueue, type BullQueueOptions, type RedisConnection } from './bullmq-queue.js';
export { createRedisEventBus } from './redis-events.js';
export { createRedisLimiter } from './redis-limits.js';
