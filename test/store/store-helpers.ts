// Shared builders for store tests.
import { messageProperties2String } from '../../src/common/message-properties.js';
import type { MessageInput } from '../../src/store/index.js';

export function msgInput(topic: string, queueId: number, body: Buffer | string, props: Record<string, string> = {}, extra: Partial<MessageInput> = {}): MessageInput {
  return {
    topic,
    queueId,
    flag: 0,
    body: typeof body === 'string' ? Buffer.from(body) : body,
    properties: messageProperties2String(props),
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost: { address: '10.0.0.1', port: 40000 },
    storeHost: { address: '127.0.0.1', port: 10911 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    ...extra,
  };
}
