// Decides where a message is stored before it is appended: delay levels park it in
// SCHEDULE_TOPIC_XXXX (queue = level - 1, consume-queue tag code = deliver time). Timer and
// transaction routing register themselves here as well, so every send path shares one place.
import { MessageConst, TopicValidator } from '../common/message-const.js';
import { getPropertyFromString } from '../common/message-properties.js';
import { removePropertyFromString, setPropertyInString } from '../common/property-edit.js';
import { getTransactionValue, MessageSysFlag } from '../common/sys-flag.js';
import type { MessageInput } from '../store/index.js';

export interface RouteResult {
  /** For timer messages: the handle that recalls the message before it is due. */
  recallHandle?: string;
}

/** A routing stage: may rewrite msg in place; returns a result when it took the message. */
export type RouteStage = (msg: MessageInput, producerGroup: string) => RouteResult | undefined;

export class MessageRouter {
  private readonly stages: RouteStage[] = [];

  constructor(private readonly delayLevelsMs: readonly number[]) {
    this.stages.push(this.delayStage);
  }

  /** Stages added later run before the delay stage (transactions must win over delays). */
  addStage(stage: RouteStage, first = false): void {
    if (first) this.stages.unshift(stage);
    else this.stages.push(stage);
  }

  route(msg: MessageInput, producerGroup: string): RouteResult {
    // Most messages carry none of the properties any stage looks at: one scan rules that out.
    if (!SPECIAL_PROPERTY.test(msg.properties)) return NONE;
    for (const stage of this.stages) {
      const r = stage(msg, producerGroup);
      if (r) return r;
    }
    return NONE;
  }

  get maxDelayLevel(): number {
    return this.delayLevelsMs.length;
  }

  delayOfLevel(level: number): number {
    return this.delayLevelsMs[Math.min(level, this.delayLevelsMs.length) - 1] ?? 0;
  }

  private readonly delayStage: RouteStage = (msg) => {
    const tran = getTransactionValue(msg.sysFlag);
    if (tran !== MessageSysFlag.TRANSACTION_NOT_TYPE && tran !== MessageSysFlag.TRANSACTION_COMMIT_TYPE) return undefined;
    const raw = getPropertyFromString(msg.properties, MessageConst.PROPERTY_DELAY_TIME_LEVEL);
    if (raw === undefined) return undefined;
    let level = Number.parseInt(raw, 10);
    if (!(level > 0)) return undefined;
    if (level > this.maxDelayLevel) {
      level = this.maxDelayLevel;
      msg.properties = setPropertyInString(msg.properties, MessageConst.PROPERTY_DELAY_TIME_LEVEL, String(level));
    }
    // A delay level wins over timer properties (RocketMQ clears them).
    for (const k of [MessageConst.PROPERTY_TIMER_DELIVER_MS, MessageConst.PROPERTY_TIMER_DELAY_SEC, MessageConst.PROPERTY_TIMER_DELAY_MS]) {
      msg.properties = removePropertyFromString(msg.properties, k);
    }
    msg.properties = setPropertyInString(msg.properties, MessageConst.PROPERTY_REAL_TOPIC, msg.topic);
    msg.properties = setPropertyInString(msg.properties, MessageConst.PROPERTY_REAL_QUEUE_ID, String(msg.queueId));
    msg.topic = TopicValidator.RMQ_SYS_SCHEDULE_TOPIC;
    msg.queueId = level - 1;
    msg.tagsCode = Date.now() + this.delayOfLevel(level);
    return NONE;
  };
}

const NONE: RouteResult = {};

/** A property some stage reacts to: DELAY, TRAN_MSG, TIMER_*, __STARTDELIVERTIME (\u0002 ends each entry). */
// eslint-disable-next-line no-control-regex
const SPECIAL_PROPERTY = /(?:^|\u0002)(?:DELAY|TRAN_MSG|TIMER_|__STARTDELIVERTIME)/;
