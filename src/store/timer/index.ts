// The timer store: scheduled messages at any time, cancellable (RocketMQ 5.x timer wheel).
export { TimerStore, type TimerEntry, type TimerStoreOptions, type TimerStoreStats, type DueTimer } from './timer-store.js';
