// Child process for the multi-process claim test: claims jobs until none is left, prints their ids.
import { openSqlite } from '@assay/store';
import { SqliteJobQueue } from '../src/index.js';

const { db } = openSqlite({ file: process.argv[2], synchronous: 'NORMAL' });
const queue = new SqliteJobQueue(db, { leaseMs: 60_000 });
const ids: string[] = [];
for (;;) {
  const job = await queue.claim(['work']);
  if (!job) break;
  ids.push(job.id);
  await queue.complete(job.id, job.lease_token);
}
process.stdout.write(JSON.stringify(ids));
await db.destroy();
