import { EventEmitter } from 'node:events';
import type { EventBus, RunEvent } from './ports.js';

/** The embedded event bus: an in-process emitter keyed by run id. */
export function createMemoryEventBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish: (event: RunEvent) => {
      emitter.emit(event.runId, event);
      emitter.emit('*', event);
    },
    subscribe: (runId, listener) => {
      emitter.on(runId, listener);
      return () => emitter.off(runId, listener);
    },
  };
}
