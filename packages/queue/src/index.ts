export { BullJobQueue, type BullQueueOptions, type RedisConnection } from './bullmq-queue.js';
export { createRedisEventBus } from './redis-events.js';
export { createRedisLimiter } from './redis-limits.js';
export { SqliteJobQueue, type SqliteQueueOptions } from './sqlite-queue.js';
