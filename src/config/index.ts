export { parseProperties, type ParsedProperties, type PropertyEntry, type PropertyProblem } from './properties.js';
export {
  expectedForm,
  type ConfigOf,
  type ConfigSchema,
  type KeySpec,
  type ValueOf,
  type StringKey,
  type IntKey,
  type FloatKey,
  type BoolKey,
  type EnumKey,
} from './schema.js';
export { checkAddrList, checkDelayLevels, checkHours, checkNonEmpty } from './checks.js';
export { NAMESRV_DEFAULTS, type NamesrvConfig } from './namesrv-defaults.js';
export { BROKER_DEFAULTS, type BrokerConfig } from './broker-defaults.js';
export { PROXY_DEFAULTS, type ProxyConfig } from './proxy-defaults.js';
export { CONSOLE_DEFAULTS, CONSOLE_LOGIN_KEYS, consoleLoginProblem, type ConsoleConfig } from './console-defaults.js';
export { STANDALONE_DEFAULTS, brokerConfigOf, namesrvConfigOf, type StandaloneConfig } from './standalone-defaults.js';
export {
  ConfigError,
  ENV_PREFIX,
  ROLE_SCHEMAS,
  loadConfig,
  type ConfigFor,
  type ConfigProblem,
  type LoadOptions,
  type RawValue,
  type Role,
} from './load-config.js';
export { pickBrokerIP1 } from './broker-ip.js';
export { ACL_KEYS, ACL_FILE_NAME, aclEnabled, aclFileProblem, defaultAclConfigFile } from './acl.js';
export type { RoleHandle } from './role-handle.js';
export { GRPC_EDGE_KEYS, REQUEST_TIMEOUT_KEYS } from './edge-defaults.js';
export { TLS_CLIENT_KEYS, TLS_SERVER_KEYS } from './tls-defaults.js';
