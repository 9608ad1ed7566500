// 5.x (gRPC) clients of a broker's in-process endpoint, answered over remoting so a console on
// another machine sees them too. The broker's own client tables only hold remoting clients, so
// without this the console would call 5.x consumers "not online" (rocketmq-dashboard's most
// reported complaint, operations-facts §7). Apogee's own request code, like GET_ALARM_LIST.
import { createResponse, ResponseCode, type RemotingCommand, type RemotingServer } from '../remoting/index.js';
import { ClientType, type ClientManager } from '../proxy/client-manager.js';

export const GET_GRPC_CLIENT_LIST = 880160;

/** apache.rocketmq.v2.Language by number, as the remoting LanguageCode names them. */
const LANGUAGES = ['OTHER', 'JAVA', 'CPP', 'DOTNET', 'GOLANG', 'RUST', 'PYTHON', 'PHP', 'NODE_JS', 'RUBY', 'OTHER', 'OTHER', 'OTHER'];
const TYPES: Record<number, string> = {
  [ClientType.PRODUCER]: 'producer',
  [ClientType.PUSH_CONSUMER]: 'push consumer',
  [ClientType.SIMPLE_CONSUMER]: 'simple consumer',
  [ClientType.PULL_CONSUMER]: 'pull consumer',
};

export interface GrpcClientRow {
  clientId: string;
  clientType: string;
  /** Consumer group; empty for producers. */
  group: string;
  topics: string[];
  language: string;
  version: string;
  hostname: string;
  lastSeen: number;
}

export interface GrpcClientListBody {
  clients: GrpcClientRow[];
}

export function grpcClientRows(clients: Pick<ClientManager, 'values' | 'isAlive'>): GrpcClientRow[] {
  const out: GrpcClientRow[] = [];
  for (const c of clients.values()) {
    if (!c.clientType || !clients.isAlive(c.clientId)) continue;
    const ua = c.settings?.userAgent;
    out.push({
      clientId: c.clientId,
      clientType: TYPES[c.clientType] ?? 'unknown',
      group: c.group ?? '',
      topics: [...c.topics].sort(),
      language: LANGUAGES[ua?.language ?? 0] ?? 'OTHER',
      version: ua?.version ?? '',
      hostname: ua?.hostname ?? '',
      lastSeen: c.lastSeen,
    });
  }
  return out;
}

/** Serves GET_GRPC_CLIENT_LIST on the broker's remoting server from its gRPC endpoint's clients. */
export function serveGrpcClientList(server: Pick<RemotingServer, 'registerProcessor'>, clients: Pick<ClientManager, 'values' | 'isAlive'>): void {
  server.registerProcessor(GET_GRPC_CLIENT_LIST, (): RemotingCommand => {
    const body: GrpcClientListBody = { clients: grpcClientRows(clients) };
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify(body)));
  });
}
