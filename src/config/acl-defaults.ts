// ACL keys (issue 15, docs/SECURITY.md). Name servers and `apogee proxy` take ACL_SERVER_KEYS (the
// broker has the same names in its own table, plus the older spelling enableAcl); brokers and
// proxies take INNER_CLIENT_KEYS, the cluster account they sign their own requests with.
import type { ConfigSchema } from './schema.js';

/** innerClientAuthenticationCredentials: empty, or JSON with non-empty accessKey and secretKey strings. */
function checkCredentials(value: string): string | undefined {
  if (value === '') return undefined;
  try {
    const v = JSON.parse(value) as { accessKey?: unknown; secretKey?: unknown };
    if (typeof v.accessKey === 'string' && v.accessKey !== '' && typeof v.secretKey === 'string' && v.secretKey !== '') return undefined;
  } catch {
    // falls through to the expected form
  }
  return 'JSON {"accessKey":"...","secretKey":"..."}';
}

export const ACL_SERVER_KEYS = {
  aclEnable: { type: 'bool', default: false, doc: 'check every request against the accounts of aclConfigFile (RocketMQ ACL 1.0)' },
  enableAcl: { type: 'bool', default: false, doc: 'same as aclEnable (an older spelling)' },
  aclConfigFile: {
    type: 'string',
    default: '',
    doc: 'plain_acl.yml (RocketMQ ACL 1.0 format), reloaded when it changes; empty = plain_acl.yml beside the -c file, else in the working directory',
  },
} as const satisfies ConfigSchema;

export const INNER_CLIENT_KEYS = {
  innerClientAuthenticationCredentials: {
    type: 'string',
    default: '',
    check: checkCredentials,
    doc: 'JSON {"accessKey":"..","secretKey":".."}: the cluster account this broker or proxy signs its own requests to name servers and brokers with; empty = unsigned',
  },
} as const satisfies ConfigSchema;
