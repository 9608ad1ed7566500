// The store's public API: what the broker and tools may use.
export { MessageStore, type MessageStoreOptions, type RecoverySummary } from './message-store.js';
export { PutMessageStatus, GetMessageStatus } from './store-status.js';
export { DEFAULT_STORE_CONFIG, resolveStoreConfig, offset2FileName, type MessageStoreConfig, type FlushDiskType } from './store-config.js';
export type { MessageInput, PutMessageResult, GetMessageResult, DispatchRequest, QueryMessageResult, MessageFilter, CqExtUnit, ReplicationStream } from './store-types.js';
export { atomicWriteFile, JsonConfigFile } from './atomic-file.js';
export type { CleanResult } from './store-retention.js';
export type { CommitLogRecoveryResult } from './commit-log.js';
