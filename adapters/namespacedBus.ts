import type { Bus } from './ports.js';

/** Prefixes every topic and consumer group, so several deployments can share one cluster. */
export function namespacedBus(inner: Bus, prefix: string): Bus {
  if (prefix === '') return inner;
  return {
    publish: (topic, messages) => inner.publish(`${prefix}${topic}`, messages),
    subscribe: (topic, group, handler) => inner.subscribe(`${prefix}${topic}`, `${prefix}${group}`, handler),
    close: () => inner.close(),
  };
}
