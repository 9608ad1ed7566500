// TransactionProducer (Java TransactionMQProducer + DefaultMQProducerImpl#sendMessageInTransaction):
// sends a half message (TRAN_MSG=true, PGROUP, sysFlag PREPARED), runs the local transaction,
// then ends it with a oneway END_TRANSACTION; answers the broker's CHECK_TRANSACTION_STATE by
// asking the listener and sending END_TRANSACTION with fromTransactionCheck=true to that broker.
import { MessageConst } from '../common/message-const.js';
import { decodeMessageId } from '../common/msg-id.js';
import { MQClientError } from './client-error.js';
import type { Message, MessageExt } from './message.js';
import type { CheckTransactionStateRequestHeader, EndTransactionRequestHeader } from './mq-client-api.js';
import type { MQClientInstance } from './mq-client-instance.js';
import { Producer, type ProducerOptions, type SendResult } from './producer.js';

/** Java LocalTransactionState (UNKNOW keeps Java's spelling). */
export type LocalTransactionState = 'COMMIT_MESSAGE' | 'ROLLBACK_MESSAGE' | 'UNKNOW';

/** commitOrRollback of END_TRANSACTION (MessageSysFlag transaction types). */
export const TransactionEndCode = {
  COMMIT_MESSAGE: 8,
  ROLLBACK_MESSAGE: 12,
  UNKNOW: 0,
} as const satisfies Record<LocalTransactionState, number>;

export type LocalTransactionExecuter = (msg: Message & { transactionId?: string }) => LocalTransactionState | Promise<LocalTransactionState>;

export interface TransactionListener {
  /** Runs after the half message is stored; a throw or undefined counts as UNKNOW (the broker will check back). */
  executeLocalTransaction?: LocalTransactionExecuter;
  /** Answers a check-back for a half message still undecided; a throw counts as UNKNOW. */
  checkLocalTransaction(msg: MessageExt): LocalTransactionState | Promise<LocalTransactionState>;
}

export interface TransactionProducerOptions extends ProducerOptions {
  transactionListener: TransactionListener;
}

export interface TransactionSendResult extends SendResult {
  localTransactionState: LocalTransactionState;
}

const STATES = new Set<string>(['COMMIT_MESSAGE', 'ROLLBACK_MESSAGE', 'UNKNOW']);

function asState(v: unknown): LocalTransactionState {
  return typeof v === 'string' && STATES.has(v) ? (v as LocalTransactionState) : 'UNKNOW';
}

export class TransactionProducer extends Producer {
  private readonly listener: TransactionListener;
  private readonly checks = new Set<Promise<void>>();

  constructor(opts: TransactionProducerOptions, instance?: MQClientInstance) {
    if (!opts.transactionListener) throw new MQClientError('transactionListener is required');
    super(opts, instance);
    this.listener = opts.transactionListener;
  }

  /**
   * Half send, local transaction, END_TRANSACTION. `executeLocal` overrides the listener's
   * executeLocalTransaction for this message. A failed half send throws; a failed
   * END_TRANSACTION is only logged, as Java does (the broker checks back instead).
   */
  async sendMessageInTransaction(msg: Message, executeLocal?: LocalTransactionExecuter): Promise<TransactionSendResult> {
    this.checkRunning();
    const exec = executeLocal ?? this.listener.executeLocalTransaction;
    if (!exec) throw new MQClientError('no local transaction executor: pass one or set transactionListener.executeLocalTransaction');
    // Java ignores a delay level on transaction messages.
    const half: Message & { transactionId?: string } = {
      ...msg,
      delayTimeLevel: undefined,
      properties: {
        ...msg.properties,
        [MessageConst.PROPERTY_TRANSACTION_PREPARED]: 'true',
        [MessageConst.PROPERTY_PRODUCER_GROUP]: this.group,
      },
    };
    let sent: SendResult;
    try {
      sent = await this.send(half);
    } catch (err) {
      throw new MQClientError(`send message Exception: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
    let state: LocalTransactionState = 'UNKNOW';
    let localError: unknown;
    if (sent.sendStatus === 'SEND_OK') {
      if (sent.transactionId) half.properties = { ...half.properties, [MessageConst.PROPERTY_TRANSACTION_ID]: sent.transactionId };
      half.transactionId = sent.msgId;
      try {
        state = asState(await exec(half));
      } catch (err) {
        localError = err;
        this.instance.logger.warn({ err, topic: msg.topic, transactionId: sent.msgId }, 'local transaction threw; leaving it to the check-back');
      }
    } else {
      state = 'ROLLBACK_MESSAGE';
    }
    try {
      await this.endTransaction(msg.topic, sent, state, localError);
    } catch (err) {
      this.instance.logger.warn({ err, state }, 'local transaction done, but ending the broker transaction failed');
    }
    return { ...sent, localTransactionState: state };
  }

  private async endTransaction(topic: string, sent: SendResult, state: LocalTransactionState, localError: unknown): Promise<void> {
    const id = decodeMessageId(sent.offsetMsgId || sent.msgId);
    const brokerName = sent.messageQueue.brokerName;
    const addr = this.instance.findBrokerAddressInPublish(brokerName);
    if (!addr) throw new MQClientError(`the broker[${brokerName}] is not known`);
    // The broker checks back through a heartbeat-registered channel of this group.
    await this.instance.ensureHeartbeat(addr);
    const header: EndTransactionRequestHeader = {
      topic,
      producerGroup: this.group,
      tranStateTableOffset: sent.queueOffset,
      commitLogOffset: id.offset,
      commitOrRollback: TransactionEndCode[state],
      fromTransactionCheck: false,
      msgId: sent.msgId,
      transactionId: sent.transactionId,
      bname: brokerName,
    };
    const remark = localError === undefined ? undefined : `executeLocalTransactionBranch exception: ${String(localError)}`;
    await this.instance.api.endTransactionOneway(addr, header, remark);
  }

  /** Called by the client instance for CHECK_TRANSACTION_STATE; runs the check off the I/O callback. */
  checkTransactionState(addr: string, msg: MessageExt, header: CheckTransactionStateRequestHeader): void {
    const job = this.answerCheck(addr, msg, header)
      .catch((err: unknown) => this.instance.logger.warn({ err, addr }, 'answering a transaction check failed'))
      .finally(() => this.checks.delete(job));
    this.checks.add(job);
  }

  private async answerCheck(addr: string, msg: MessageExt, header: CheckTransactionStateRequestHeader): Promise<void> {
    let state: LocalTransactionState = 'UNKNOW';
    let error: unknown;
    try {
      state = asState(await this.listener.checkLocalTransaction(msg));
    } catch (err) {
      error = err;
      this.instance.logger.warn({ err, transactionId: header.transactionId }, 'checkLocalTransaction threw; answering UNKNOW');
    }
    const h: EndTransactionRequestHeader = {
      topic: header.topic ?? msg.topic,
      producerGroup: this.group,
      tranStateTableOffset: header.tranStateTableOffset,
      commitLogOffset: header.commitLogOffset,
      commitOrRollback: TransactionEndCode[state],
      fromTransactionCheck: true,
      msgId: msg.properties[MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX] ?? msg.msgId,
      transactionId: header.transactionId,
      bname: header.bname,
    };
    const remark = error === undefined ? undefined : `checkLocalTransactionState Exception: ${String(error)}`;
    await this.instance.api.endTransactionOneway(addr, h, remark);
  }

  /** Lets running check-backs send their answers, then shuts down as a plain producer. */
  override async shutdown(): Promise<void> {
    await Promise.allSettled([...this.checks]);
    await super.shutdown();
  }
}
