// The broker's ACL is the shared one of src/remoting/acl (name servers and `apogee proxy` use it
// too); this keeps the broker's import path.
export * from '../../remoting/acl/index.js';
