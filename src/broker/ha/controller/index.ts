// Controller mode (issue 12): etcd decides each broker group's master, epoch and in-sync set.
export {
  EtcdBrokerController,
  type ControllerRole,
  type ControllerStats,
  type GroupState,
  type RoleChange,
} from './etcd-ha-controller.js';
export {
  CONTROLLER_DEFAULTS,
  checkEndpoints,
  controllerOptionsFromConfig,
  parseEndpoints,
  type ControllerOptions,
  type ControllerRuntime,
} from './controller-options.js';
export { groupKeys, KEY_ROOT, type GroupKeys, type MasterRecord, type SyncStateRecord, type CandidateRecord } from './group-keys.js';
