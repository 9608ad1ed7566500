// Send and consume hook points of the service layer: trace, metrics and audit attach here and see
// every message event once, whichever protocol carried it. Listeners run synchronously after the
// event; with none registered an event costs one length check and builds nothing.
import type { AckedEvent, DeadLetteredEvent, DeliveredEvent, RecalledEvent, RetriedEvent, StoredEvent, TransactionEndedEvent } from '../../observability/broker-events.js';

export type { AckedEvent, DeadLetteredEvent, DeliveredEvent, PoppedView, Protocol, RecalledEvent, RetriedEvent, StoredEvent, TransactionEndedEvent } from '../../observability/broker-events.js';

type Listener<E> = (e: E) => void;

export class BrokerHooks {
  readonly stored: Listener<StoredEvent>[] = [];
  readonly delivered: Listener<DeliveredEvent>[] = [];
  readonly acked: Listener<AckedEvent>[] = [];
  readonly retried: Listener<RetriedEvent>[] = [];
  readonly deadLettered: Listener<DeadLetteredEvent>[] = [];
  readonly transactionEnded: Listener<TransactionEndedEvent>[] = [];
  readonly recalled: Listener<RecalledEvent>[] = [];

  constructor(private readonly onListenerError: (err: unknown, hook: string) => void = () => undefined) {}

  /** Runs each listener; one that throws is reported and never fails the request. */
  emit<E>(name: string, listeners: readonly Listener<E>[], e: E): void {
    for (const l of listeners) {
      try {
        l(e);
      } catch (err) {
        this.onListenerError(err, name);
      }
    }
  }
}
