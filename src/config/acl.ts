// ACL is not implemented yet (it will be a request hook on both servers). Until it is, a broker
// asked for it must not start and serve every request unchecked: asking is a configuration error,
// and the broker start refuses it too for configurations built without loadConfig.

/** The keys that switch ACL on: RocketMQ's name, then the spelling Apogee accepted before. */
export const ACL_KEYS = ['aclEnable', 'enableAcl'] as const;

/** Why a configuration with `key` = true cannot start; names the key and what to do. */
export function aclUnavailable(key: string): string {
  return (
    `${key}=true asks for ACL, which Apogee does not provide yet: the broker would accept every request ` +
    `unchecked, so it refuses to start (remove ${key} or set it to false)`
  );
}
