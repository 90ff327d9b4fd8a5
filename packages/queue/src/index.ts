export { SqliteJobQueue, type SqliteQueueOptions } from './sqlite-queue.js';
