// QUERY_MESSAGE (by key or unique id, through the index) and VIEW_MESSAGE_BY_ID (by commit-log
// offset, the offsetMsgId's second half). Both answer with whole stored records, as pulls do.
import { BrokerError, createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { BrokerParts } from '../broker-parts.js';

/** Java MessageStoreConfig.maxMsgsNumBatch: the most records one query returns. */
const MAX_QUERY_NUM = 64;
/** Java defaultQueryMaxNum, used when the client marks the key as a unique id. */
const UNIQUE_KEY_QUERY_NUM = 32;
/** MixAll.UNIQUE_MSG_QUERY_FLAG. */
const UNIQUE_MSG_QUERY_FLAG = '_UNIQUE_KEY_QUERY';

const QUERY_HEADER = {
  topic: { type: 'string', required: true },
  key: { type: 'string', required: true },
  maxNum: { type: 'int', required: true },
  beginTimestamp: { type: 'long', required: true },
  endTimestamp: { type: 'long', required: true },
} as const;

export class AdminMessageProcessor {
  constructor(private readonly broker: Pick<BrokerParts, 'store'>) {}


  /** Body = the matching records concatenated, newest first; QUERY_NOT_FOUND when none match. */
  readonly queryMessage = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(QUERY_HEADER, req.extFields);
    let maxNum = req.extFields[UNIQUE_MSG_QUERY_FLAG] === 'true' ? UNIQUE_KEY_QUERY_NUM : h.maxNum;
    if (maxNum < 1) throw new BrokerError(ResponseCode.INVALID_PARAMETER, `maxNum must be at least 1, got ${h.maxNum}`);
    maxNum = Math.min(maxNum, MAX_QUERY_NUM);
    const r = await this.broker.store.queryMessage(h.topic, h.key, maxNum, h.beginTimestamp, h.endTimestamp);
    const ext = { indexLastUpdateTimestamp: r.indexLastUpdateTimestamp, indexLastUpdatePhyoffset: r.indexLastUpdatePhyoffset };
    if (r.buffers.length === 0) return createResponse(ResponseCode.QUERY_NOT_FOUND, 'can not find message, maybe time range not correct', ext);
    return createResponse(ResponseCode.SUCCESS, undefined, ext, r.buffers);
  };

  readonly viewMessageById = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader({ offset: { type: 'long', required: true } }, req.extFields);
    const rec = h.offset >= 0 ? await this.broker.store.lookMessageByOffset(h.offset) : null;
    if (!rec) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `can not find message by the offset, ${h.offset}`);
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, rec);
  };
}
