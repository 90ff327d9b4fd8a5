// Child process for the crash test: opens the queue described by argv[2] (a QueueConfig as JSON),
// runs a worker whose handler reports each job on stdout and then never finishes, and waits for
// the test to kill it with SIGKILL.
import { openQueue, type QueueConfig } from './open-queue.js';

const config = JSON.parse(process.argv[2]) as QueueConfig;
const { queue } = await openQueue(config);
queue.work(
  {
    crash: async (ctx) => {
      process.stdout.write(`${JSON.stringify({ id: ctx.id, attempt: ctx.attempt })}\n`);
      await new Promise(() => {});
    },
  },
  { concurrency: 4, onError: () => {} },
);
