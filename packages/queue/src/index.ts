export { BullJobQueue, type BullQueueOptions, type RedisConnection } from './bullmq-queue.js';
export { SqliteJobQueue, type SqliteQueueOptions } from './sqlite-queue.js';
