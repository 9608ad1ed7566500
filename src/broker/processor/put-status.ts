// One switch from the store's PutMessageStatus to a remoting response code and remark.
import { ResponseCode } from '../../remoting/index.js';
import { PutMessageStatus, type PutMessageResult } from '../../store/index.js';

export interface MappedPut {
  code: number;
  remark?: string;
  /** The message is stored (perhaps not yet flushed or replicated): the response carries ids. */
  sent: boolean;
}

export function putStatusToResponse(r: PutMessageResult): MappedPut {
  switch (r.status) {
    case PutMessageStatus.PUT_OK:
      return { code: ResponseCode.SUCCESS, sent: true };
    case PutMessageStatus.FLUSH_DISK_TIMEOUT:
      return { code: ResponseCode.FLUSH_DISK_TIMEOUT, remark: 'the flush to disk did not finish within syncFlushTimeout', sent: true };
    case PutMessageStatus.FLUSH_SLAVE_TIMEOUT:
      return { code: ResponseCode.FLUSH_SLAVE_TIMEOUT, remark: 'the slave did not confirm in time', sent: true };
    case PutMessageStatus.SLAVE_NOT_AVAILABLE:
      return { code: ResponseCode.SLAVE_NOT_AVAILABLE, remark: 'no in-sync slave is available', sent: true };
    case PutMessageStatus.CREATE_MAPPED_FILE_FAILED:
      return { code: ResponseCode.SYSTEM_ERROR, remark: `create mapped file failed, server is busy or broken. ${r.remark ?? ''}`.trim(), sent: false };
    case PutMessageStatus.MESSAGE_ILLEGAL:
    case PutMessageStatus.PROPERTIES_SIZE_EXCEEDED:
      return {
        code: ResponseCode.MESSAGE_ILLEGAL,
        remark: r.remark ?? 'the message is illegal, maybe msg body or properties length not matched',
        sent: false,
      };
    case PutMessageStatus.DISK_FULL:
      // RocketMQ answers SERVICE_NOT_AVAILABLE with "the broker's disk is full [CL: 0.90 ...]"
      // among other possible causes; the store names the one cause here (ratio, ENOSPC, or a
      // consume-queue/index write), so the bracket carries its remark. Clients retry code 14 on
      // another broker, and writes resume here by themselves once space is freed.
      return { code: ResponseCode.SERVICE_NOT_AVAILABLE, remark: `service not available now: the broker's disk is full [${r.remark ?? 'CL: unknown'}]`, sent: false };
    case PutMessageStatus.SERVICE_NOT_AVAILABLE:
      return {
        code: ResponseCode.SERVICE_NOT_AVAILABLE,
        remark: r.remark ?? 'service not available now: the message store is shut down or refuses writes after an I/O error',
        sent: false,
      };
    case PutMessageStatus.OS_PAGE_CACHE_BUSY:
      return { code: ResponseCode.SYSTEM_BUSY, remark: '[PC_SYNCHRONIZED]broker busy, start flow control for a while', sent: false };
    default:
      return { code: ResponseCode.SYSTEM_ERROR, remark: r.remark ?? `put message failed: ${String(r.status)}`, sent: false };
  }
}
