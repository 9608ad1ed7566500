// CONSUME_MESSAGE_DIRECTLY (309) from an admin tool: the broker reads the stored message the
// offsetMsgId names and hands it, with the same code, to one online consumer over that client's
// own connection; the client's answer (Java: a ConsumeMessageDirectlyResult) goes back to the
// tool as it is. Java's AdminBrokerProcessor.consumeMessageDirectly + Broker2Client.callClient.
import { decodeMessageId } from '../../common/msg-id.js';
import { BrokerError, createRequest, createResponse, decodeHeader, RequestCode, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { BrokerParts } from '../broker-parts.js';

import { CONSUME_MESSAGE_DIRECTLY_HEADER } from '../../remoting/protocol/index.js';

export { CONSUME_MESSAGE_DIRECTLY_HEADER };

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 60_000;

export class ConsumeDirectlyProcessor {
  constructor(private readonly broker: Pick<BrokerParts, 'config' | 'store' | 'consumerManager'>) {}

  readonly process = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(CONSUME_MESSAGE_DIRECTLY_HEADER, req.extFields);
    const b = this.broker;
    const info = b.consumerManager.getConsumerGroupInfo(h.consumerGroup);
    const client = info && [...info.channels.values()].find((c) => c.clientId === h.clientId && !c.channel.closed);
    if (!client) {
      const online = info ? info.clientIds().join(', ') || 'none' : 'none';
      throw new BrokerError(ResponseCode.CONSUMER_NOT_ONLINE, `the consumer ${h.clientId} of group ${h.consumerGroup} is not connected to broker ${b.config.brokerName} over remoting (online: ${online})`);
    }
    let offset: number;
    try {
      offset = decodeMessageId(h.msgId).offset;
    } catch (err) {
      throw new BrokerError(ResponseCode.INVALID_PARAMETER, `msgId must be an offsetMsgId of this broker: ${(err as Error).message}`);
    }
    const rec = offset >= 0 ? await b.store.lookMessageByOffset(offset) : null;
    if (!rec) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `can not find message by the offset, ${offset}`);
    const timeout = Math.min(h.timeoutMillis && h.timeoutMillis > 0 ? h.timeoutMillis : DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS);
    const ext: Record<string, string> = { consumerGroup: h.consumerGroup, clientId: h.clientId, msgId: h.msgId, brokerName: b.config.brokerName };
    if (h.topic) ext.topic = h.topic;
    let answer: RemotingCommand;
    try {
      answer = await client.channel.invoke(createRequest(RequestCode.CONSUME_MESSAGE_DIRECTLY, ext, rec), timeout);
    } catch (err) {
      throw new BrokerError(
        ResponseCode.SYSTEM_ERROR,
        `the consumer ${h.clientId} (${client.language} ${client.version}) did not answer CONSUME_MESSAGE_DIRECTLY within ${timeout} ms: ${(err as Error).message}. Clients that do not implement it (ali-ons) never answer`,
      );
    }
    return createResponse(answer.code, answer.remark ?? undefined, answer.extFields, answer.body);
  };
}
