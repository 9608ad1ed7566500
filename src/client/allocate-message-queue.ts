// AllocateMessageQueueAveragely: consumer i of n (sorted ids) takes a contiguous run of the
// sorted queues; the first (queues mod n) consumers take one extra.
import type { MessageQueue } from './message.js';

export function allocateMessageQueueAveragely(currentCID: string, mqAll: readonly MessageQueue[], cidAll: readonly string[]): MessageQueue[] {
  const index = cidAll.indexOf(currentCID);
  if (index < 0 || mqAll.length === 0) return [];
  const n = cidAll.length;
  const mod = mqAll.length % n;
  const averageSize = mqAll.length <= n ? 1 : mod > 0 && index < mod ? Math.floor(mqAll.length / n) + 1 : Math.floor(mqAll.length / n);
  const startIndex = mod > 0 && index < mod ? index * averageSize : index * averageSize + mod;
  const range = Math.min(averageSize, mqAll.length - startIndex);
  const out: MessageQueue[] = [];
  for (let i = 0; i < range; i++) out.push(mqAll[(startIndex + i) % mqAll.length]);
  return out;
}
