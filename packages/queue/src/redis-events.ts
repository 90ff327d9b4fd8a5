import type { EventBus, Logger, RunEvent } from '@assay/core';
import { createMemoryEventBus, silentLogger } from '@assay/core';
import { Redis } from 'ioredis';

/**
 * Live events across processes: every process publishes run events on one Redis channel and
 * delivers what it receives to its local subscribers, so an SSE client connected to any API
 * process sees events produced by any worker. Same event format as the in-process bus.
 */
export function createRedisEventBus(url: string, opts: { channel?: string; log?: Logger } = {}) {
  const channel = opts.channel ?? 'assay:events';
  const log = opts.log ?? silentLogger;
  const local = createMemoryEventBus();
  const pub = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
  const sub = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
  // Connection errors are retried by ioredis; log once per burst instead of crashing.
  let lastLog = 0;
  const onError = (e: Error) => {
    if (Date.now() - lastLog > 5000) log.warn({ err: e }, `redis events: ${e.message}`);
    lastLog = Date.now();
  };
  pub.on('error', onError);
  sub.on('error', onError);
  const ready = sub.subscribe(channel);
  sub.on('message', (_ch: string, message: string) => {
    try {
      local.publish(JSON.parse(message) as RunEvent);
    } catch {
      // a malformed message from another process is ignored, never fatal
    }
  });
  const bus: EventBus & { ready: Promise<unknown>; close(): Promise<void> } = {
    ready,
    publish: (event) => {
      pub.publish(channel, JSON.stringify(event)).catch(onError);
    },
    subscribe: (runId, listener) => local.subscribe(runId, listener),
    async close() {
      sub.disconnect();
      pub.disconnect();
    },
  };
  return bus;
}
