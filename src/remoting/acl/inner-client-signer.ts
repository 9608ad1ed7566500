// Requests a cluster member makes on its own behalf (a broker's name-server registration, a
// slave's metadata copies from its master, everything `apogee proxy` asks of name servers and
// brokers) signed with the cluster account of innerClientAuthenticationCredentials, so members
// with ACL on accept each other. RocketMQ 5 names the key the same (its proxy reads it too).
import { signRequest, type RemotingCommand } from '../index.js';

/** The client rpcHook that signs with the credentials JSON, or undefined for '' (unsigned). */
export function innerClientSigner(credentialsJson: string): ((cmd: RemotingCommand) => void) | undefined {
  if (!credentialsJson) return undefined;
  const { accessKey, secretKey } = JSON.parse(credentialsJson) as { accessKey: string; secretKey: string };
  return (cmd) => {
    const body = Buffer.isBuffer(cmd.body) ? cmd.body : Array.isArray(cmd.body) ? Buffer.concat(cmd.body) : undefined;
    signRequest(cmd.extFields, body, accessKey, secretKey);
  };
}
