// SEND_MESSAGE / SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE: decode the header, hand the message to the
// send service, answer with ids and offsets (and the MSG_REGION / TRACE_ON fields 4.x clients read).
import { bodyOf, createResponse, type RemotingChannel, type RemotingCommand } from '../../remoting/index.js';
import type { SEND_MESSAGE_RESPONSE_HEADER } from '../../remoting/protocol/index.js';
import { hostPortOf } from '../record-view.js';
import { decodeSendHeader } from '../send-message-header.js';
import type { SendRequest, SendResult, SendService } from '../service/send-service.js';

/** Clients from 3.4.9 on send their own maxReconsumeTimes with a retry-topic send. */
const V3_4_9 = 121;

export class SendMessageProcessor {
  constructor(private readonly sends: SendService) {}

  // Not async: the channel turns a throw into the refusal's answer, and an async wrapper with its
  // await cost a promise, reactions and a saved frame per message (issue 17).
  readonly process = (req: RemotingCommand, ch: RemotingChannel): Promise<RemotingCommand> => {
    const h = decodeSendHeader(req);
    const r: SendRequest = {
      protocol: 'remoting',
      producerGroup: h.producerGroup,
      topic: h.topic,
      queueId: h.queueId,
      body: bodyOf(req),
      properties: h.properties,
      flag: h.flag,
      sysFlag: h.sysFlag,
      bornTimestamp: h.bornTimestamp,
      bornHost: hostPortOf(ch.remoteAddress),
      reconsumeTimes: h.reconsumeTimes,
      maxReconsumeTimes: req.version >= V3_4_9 ? h.maxReconsumeTimes : undefined,
      client: ch.remoteAddress,
      autoCreate: { defaultTopic: h.defaultTopic, defaultTopicQueueNums: h.defaultTopicQueueNums },
    };
    return (h.batch ? this.sends.sendBatch(r) : this.sends.send(r)).then(sendResponse);
  };
}

/**
 * The answer's extFields, SEND_MESSAGE_RESPONSE_HEADER's fields written as a literal of strings,
 * with the command built here: this runs once per send, and encodeHeader's generic loop measured
 * about 3x the cost of the literal, and createResponse's copy of it was another object per message
 * (issue 17). test/broker/send-response-header.test.ts holds the literal to what encodeHeader writes.
 */
export function sendResponse(r: SendResult): RemotingCommand {
  const resp = createResponse(r.mapped.code, r.mapped.remark);
  // Two literals rather than a deleted field: an undefined field is left out, as encodeHeader does.
  const extFields: SendResponseFields =
    r.recallHandle === undefined
      ? { msgId: r.put.msgId, queueId: String(r.queueId), queueOffset: String(r.put.queueOffset), transactionId: r.uniqKey, MSG_REGION: r.regionId ?? 'DefaultRegion', TRACE_ON: r.traceOn ?? 'true' }
      : {
          msgId: r.put.msgId,
          queueId: String(r.queueId),
          queueOffset: String(r.put.queueOffset),
          transactionId: r.uniqKey,
          MSG_REGION: r.regionId ?? 'DefaultRegion',
          TRACE_ON: r.traceOn ?? 'true',
          recallHandle: r.recallHandle,
        };
  resp.extFields = extFields as Record<string, string>;
  return resp;
}

type SendResponseFields = Partial<Record<keyof typeof SEND_MESSAGE_RESPONSE_HEADER, string>>;
