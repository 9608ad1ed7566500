// ACL 1.0 (plain_acl.yml) for every role that serves requests: brokers and name servers check
// remoting requests with a request hook, brokers and `apogee proxy` check gRPC ones with the hook
// of src/proxy/grpc-acl-hook.ts; all ask the same PlainAccessValidator. It lives below the broker
// so that the name server and the cluster proxy, which load no broker module, share it.
export { AclService, type AclCounters, type AclServiceOptions, type RemotingAccessOf } from './acl-service.js';
export { PlainAccessValidator, type AccessRequest, type Denial } from './plain-access-validator.js';
export { AclConfigError, hostOf, parsePlainAcl, formatPlainAcl, Perm, type PlainAccount, type PlainAclConfig } from './plain-acl-config.js';
export { ADMIN_CODES, NAMESRV_WRITE_CODES, namesrvAccess, remotingAccess, remotingResources } from './remoting-access.js';
export { innerClientSigner } from './inner-client-signer.js';
