// ACL 1.0 (plain_acl.yml) for both protocols: the remoting hook lives here, the gRPC one in
// src/proxy/grpc-acl-hook.ts; both ask the same PlainAccessValidator.
export { AclService, type AclCounters, type AclServiceOptions } from './acl-service.js';
export { PlainAccessValidator, type AccessRequest, type Denial } from './plain-access-validator.js';
export { AclConfigError, hostOf, parsePlainAcl, formatPlainAcl, Perm, type PlainAccount, type PlainAclConfig } from './plain-acl-config.js';
export { ADMIN_CODES, remotingResources } from './remoting-access.js';
