// Kept for old import paths (bench/security): the mapping lives in src/remoting/acl.
export { ADMIN_CODES, remotingAccess, remotingResources } from '../../remoting/acl/remoting-access.js';
