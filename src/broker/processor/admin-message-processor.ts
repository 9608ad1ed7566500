// QUERY_MESSAGE (by key or unique id, through the index) and VIEW_MESSAGE_BY_ID (by commit-log
// offset, the offsetMsgId's second half). Both answer with whole stored records, as pulls do.
import { BrokerError, createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import { encodeHeader, QUERY_MESSAGE_HEADER, QUERY_MESSAGE_RESPONSE_HEADER, VIEW_MESSAGE_BY_ID_HEADER } from '../../remoting/protocol/index.js';
import type { BrokerParts } from '../broker-parts.js';

/** Java MessageStoreConfig.maxMsgsNumBatch: the most records one query returns. */
const MAX_QUERY_NUM = 64;
/** Java defaultQueryMaxNum, used when the client marks the key as a unique id. */
const UNIQUE_KEY_QUERY_NUM = 32;

export class AdminMessageProcessor {
  constructor(private readonly broker: Pick<BrokerParts, 'store'>) {}

  /**
   * Body = the matching records concatenated, newest first; QUERY_NOT_FOUND when none match.
   * _UNIQUE_KEY_QUERY is the schema's bool, so "TRUE" counts as well; Java compares with "true"
   * exactly, and its clients send "true", so none of them sees a difference.
   */
  readonly queryMessage = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(QUERY_MESSAGE_HEADER, req.extFields);
    let maxNum = h._UNIQUE_KEY_QUERY === true ? UNIQUE_KEY_QUERY_NUM : h.maxNum;
    if (maxNum < 1) throw new BrokerError(ResponseCode.INVALID_PARAMETER, `maxNum must be at least 1, got ${h.maxNum}`);
    maxNum = Math.min(maxNum, MAX_QUERY_NUM);
    const r = await this.broker.store.queryMessage(h.topic, h.key, maxNum, h.beginTimestamp, h.endTimestamp);
    const ext = encodeHeader(QUERY_MESSAGE_RESPONSE_HEADER, {
      indexLastUpdateTimestamp: r.indexLastUpdateTimestamp,
      indexLastUpdatePhyoffset: r.indexLastUpdatePhyoffset,
    });
    if (r.buffers.length === 0) return createResponse(ResponseCode.QUERY_NOT_FOUND, 'can not find message, maybe time range not correct', ext);
    return createResponse(ResponseCode.SUCCESS, undefined, ext, r.buffers);
  };

  readonly viewMessageById = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(VIEW_MESSAGE_BY_ID_HEADER, req.extFields);
    const rec = h.offset >= 0 ? await this.broker.store.lookMessageByOffset(h.offset) : null;
    if (!rec) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `can not find message by the offset, ${h.offset}`);
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, rec);
  };
}
