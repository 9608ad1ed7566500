// The systems bench/peers compares, each started on loopback ports over its own temp directory
// and driven through the Node client its users run. Every adapter answers the same three calls:
// start the server, open a producer on a destination, open a consumer of a destination from its
// first message. Durability is stated next to each system's figures.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { spawnBenchBroker } from '../helpers/spawn-broker.js';

export interface Server {
  /** Processes whose CPU is the server's (the root of its process tree). */
  pid: number;
  stop(): Promise<void>;
}

export interface Producer {
  /** Resolves when the server acknowledged the message. */
  send(body: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface Consumer {
  close(): Promise<void>;
}

export interface Peer {
  name: string;
  client: string;
  durability: string;
  start(dir: string): Promise<Server>;
  /** Creates the destination if needed. */
  producer(dest: string): Promise<Producer>;
  /** Reads dest from its first message, calling onMessage per message (acknowledged by the adapter). */
  consumer(dest: string, onMessage: (body: Buffer) => void): Promise<Consumer>;
}

const require = createRequire(import.meta.url);
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject).listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${ms} ms: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const stopping = new WeakSet<ChildProcess>();

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  stopping.add(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    child.kill(signal);
  });
}

function spawnServer(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  child.once('exit', (code) => {
    if (!stopping.has(child) && code !== 0) process.stderr.write(`${cmd} exited with ${code}: ${err}\n`);
  });
  return child;
}

// --- Apogee -------------------------------------------------------------------------------

interface ApogeeAddrs {
  namesrv: string;
  broker: string;
  grpc: string;
}

async function startApogee(dir: string, flush: 'ASYNC_FLUSH' | 'SYNC_FLUSH', addrs: ApogeeAddrs): Promise<Server> {
  const b = await spawnBenchBroker(dir, ['--host=127.0.0.1', `--flushDiskType=${flush}`]);
  Object.assign(addrs, { namesrv: b.namesrv, broker: b.broker, grpc: b.grpc });
  return { pid: b.child.pid!, stop: () => b.stop() };
}

async function apogeeTopic(addrs: ApogeeAddrs, topic: string): Promise<void> {
  const rc = new RemotingClient();
  try {
    const r = await rc.invoke(addrs.broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic, readQueueNums: 8, writeQueueNums: 8, perm: 6 }));
    if (r.code !== ResponseCode.SUCCESS) throw new Error(`create ${topic}: ${r.code} ${r.remark ?? ''}`);
    await until(`route of ${topic}`, 10_000, async () =>
      (await rc.invoke(addrs.namesrv, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }))).code === ResponseCode.SUCCESS ? true : undefined,
    );
  } finally {
    await rc.close();
  }
}

let onsSeq = 0;
function apogeeRemoting(flush: 'ASYNC_FLUSH' | 'SYNC_FLUSH'): Peer {
  const addrs: ApogeeAddrs = { namesrv: '', broker: '', grpc: '' };
  const ons = require('ali-ons') as { Producer: any; Consumer: any; Message: any };
  const base = (role: string) => ({
    nameSrv: addrs.namesrv,
    httpclient: {},
    logger: quiet,
    clientIP: '127.0.0.1',
    instanceName: `peers-${role}-${process.pid}-${++onsSeq}`,
  });
  return {
    name: `Apogee, remoting, ${flush}`,
    client: 'ali-ons',
    durability: flush === 'SYNC_FLUSH' ? 'fsync before each acknowledgement (group commit)' : 'page cache, flushed every 500 ms',
    start: (dir) => startApogee(dir, flush, addrs),
    async producer(topic) {
      await apogeeTopic(addrs, topic);
      const p = new ons.Producer({ ...base('producer'), producerGroup: `PID_${topic}` });
      p.on('error', () => undefined);
      await p.ready();
      return {
        send: async (body) => {
          const r = await p.send(new ons.Message(topic, 'bench', body));
          if (r.sendStatus !== 'SEND_OK') throw new Error(`send: ${r.sendStatus}`);
        },
        close: async () => {
          await p.close();
          await dropOnsDefaultProducer(ons, p);
        },
      };
    },
    async consumer(topic, onMessage) {
      await apogeeTopic(addrs, topic);
      const c = new ons.Consumer({ ...base('consumer'), consumerGroup: `GID_${topic}`, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', persistent: false, pullBatchSize: 32, parallelConsumeLimit: 32 });
      c.on('error', () => undefined);
      c.subscribe(topic, '*', async (msg: { body: Buffer }) => onMessage(msg.body));
      await c.ready();
      return {
        close: async () => {
          await c.close();
          await dropOnsDefaultProducer(ons, c);
        },
      };
    },
  };
}

/**
 * ali-ons keeps one process-wide "default producer" (made by the first producer or consumer, for
 * send-backs) bound to that system's name server, and close() removes a client's listeners before
 * its last reconnect errors are emitted. Left alone, either one emits an unhandled 'error' once its
 * broker is stopped, which ends the bench before the next system runs.
 */
async function dropOnsDefaultProducer(ons: { Producer: any }, closed: { on(e: string, f: () => void): void }): Promise<void> {
  const ignore = (): void => undefined;
  closed.on('error', ignore);
  const d = ons.Producer.defaultProducer;
  if (!d) return;
  d.on('error', ignore);
  await d.close().catch(ignore);
  d.on('error', ignore);
  ons.Producer.defaultProducer = null;
}

/** push: consume with the client's PushConsumer (its own receive loops, cache and ack per message) instead of SimpleConsumer loops. */
function apogeeGrpc(push = false): Peer {
  const addrs: ApogeeAddrs = { namesrv: '', broker: '', grpc: '' };
  const rmq = require('rocketmq-client-nodejs') as typeof import('rocketmq-client-nodejs');
  return {
    name: push ? 'Apogee, gRPC, ASYNC_FLUSH, PushConsumer' : 'Apogee, gRPC, ASYNC_FLUSH',
    client: 'rocketmq-client-nodejs',
    durability: 'page cache, flushed every 500 ms',
    start: (dir) => startApogee(dir, 'ASYNC_FLUSH', addrs),
    async producer(topic) {
      await apogeeTopic(addrs, topic);
      const p = new rmq.Producer({ endpoints: addrs.grpc, namespace: '', logger: quiet, topic } as never);
      await p.startup();
      return { send: async (body) => void (await p.send({ topic, tag: 'bench', body } as never)), close: () => p.shutdown() };
    },
    async consumer(topic, onMessage) {
      await apogeeTopic(addrs, topic);
      if (push) {
        const pc = new rmq.PushConsumer({
          endpoints: addrs.grpc,
          namespace: '',
          logger: quiet,
          consumerGroup: `GID_${topic}`,
          subscriptions: new Map([[topic, '*']]),
          messageListener: {
            consume: (m: { body: Buffer }) => {
              onMessage(m.body);
              return Promise.resolve(rmq.ConsumeResult.SUCCESS);
            },
          },
        } as never);
        await pc.startup();
        return { close: () => pc.shutdown() };
      }
      const c = new rmq.SimpleConsumer({
        endpoints: addrs.grpc,
        namespace: '',
        logger: quiet,
        consumerGroup: `GID_${topic}`,
        subscriptions: new Map([[topic, '*']]),
        awaitDuration: 1000,
      } as never);
      await c.startup();
      let open = true;
      // Several receive loops, as a user after throughput runs them; each handles its batch, then
      // acknowledges the batch's messages concurrently (the 5.x client acks one message per call, so
      // acking them one after another would measure the round trip, not the broker).
      const loops = Array.from({ length: 4 }, async () => {
        while (open) {
          const msgs = await c.receive(32, 30_000).catch(() => []);
          for (const m of msgs) onMessage(m.body);
          await Promise.all(msgs.map((m) => c.ack(m).catch(() => undefined)));
        }
      });
      return {
        close: async () => {
          open = false;
          await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 3000))]);
          await c.shutdown();
        },
      };
    },
  };
}

// --- Redis Streams -----------------------------------------------------------------------------

function redisStreams(): Peer {
  const Redis = require('ioredis') as typeof import('ioredis').default;
  let port = 0;
  return {
    name: 'Redis 7 Streams, AOF everysec',
    client: 'ioredis',
    durability: 'AOF, fsync every second',
    async start(dir) {
      port = await freePort();
      const child = spawnServer('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--protected-mode', 'no',
      ]);
      await until('redis', 20_000, async () => {
        const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        try {
          await r.connect();
          return (await r.ping()) === 'PONG' ? true : undefined;
        } finally {
          r.disconnect();
        }
      });
      return { pid: child.pid!, stop: () => stopChild(child) };
    },
    async producer(stream) {
      const r = new Redis({ port, host: '127.0.0.1', enableAutoPipelining: true });
      return { send: async (body) => void (await r.xadd(stream, '*', 'd', body)), close: async () => void r.disconnect() };
    },
    async consumer(stream, onMessage) {
      const r = new Redis({ port, host: '127.0.0.1' });
      await r.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM').catch(() => undefined);
      let open = true;
      const loop = (async () => {
        while (open) {
          const res = (await r.xreadgroupBuffer('GROUP', 'g', 'c', 'COUNT', 1000, 'BLOCK', 200, 'STREAMS', stream, '>')) as [Buffer, [Buffer, Buffer[]][]][] | null;
          if (!res) continue;
          const ids: Buffer[] = [];
          for (const [id, fields] of res[0][1]) {
            onMessage(fields[1]);
            ids.push(id);
          }
          if (ids.length) await r.xack(stream, 'g', ...ids);
        }
      })();
      return {
        close: async () => {
          open = false;
          await loop.catch(() => undefined);
          r.disconnect();
        },
      };
    },
  };
}

// --- RabbitMQ quorum queue ------------------------------------------------------------------------

function rabbitQuorum(): Peer {
  const amqp = require('amqplib') as typeof import('amqplib');
  let url = '';
  const declare = (ch: import('amqplib').Channel, q: string) => ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  return {
    name: 'RabbitMQ 3.10 quorum queue',
    client: 'amqplib',
    durability: 'quorum queue (Raft log, fsync before confirm), publisher confirms',
    async start(dir) {
      const [port, dist, epmd] = [await freePort(), await freePort(), await freePort()];
      url = `amqp://guest:guest@127.0.0.1:${port}`;
      mkdirSync(join(dir, 'home'), { recursive: true });
      writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
      writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users = none\n`);
      const env = {
        ...process.env,
        HOME: join(dir, 'home'),
        RABBITMQ_NODENAME: `bench${port}@localhost`,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_DIST_PORT: String(dist),
        ERL_EPMD_PORT: String(epmd),
        ERL_EPMD_ADDRESS: '127.0.0.1',
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
        RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(dir, 'log'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
        RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
        RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
      };
      // The package's own wrapper (/usr/sbin) switches to the rabbitmq user and its directories; this one runs as us.
      const child = spawnServer('/usr/lib/rabbitmq/bin/rabbitmq-server', [], env);
      await until('rabbitmq', 90_000, async () => {
        const c = await amqp.connect(url);
        await c.close();
        return true;
      });
      return {
        pid: child.pid!,
        stop: async () => {
          await stopChild(child);
          // The Erlang port mapper this node started on its own port.
          spawnSync('epmd', ['-kill'], { env, timeout: 5000 });
        },
      };
    },
    async producer(q) {
      const conn = await amqp.connect(url);
      const ch = await conn.createConfirmChannel();
      await declare(ch, q);
      return {
        send: (body) =>
          new Promise<void>((resolve, reject) => {
            ch.sendToQueue(q, body, { persistent: true }, (err) => (err ? reject(err) : resolve()));
          }),
        close: async () => {
          await ch.close();
          await conn.close();
        },
      };
    },
    async consumer(q, onMessage) {
      const conn = await amqp.connect(url);
      const ch = await conn.createChannel();
      await declare(ch, q);
      await ch.prefetch(1000);
      let n = 0;
      await ch.consume(q, (m) => {
        if (!m) return;
        onMessage(m.content);
        // Acknowledge every 100th with multiple=true: one ack frame per 100 messages.
        if (++n % 100 === 0) ch.ack(m, true);
      });
      return {
        close: async () => {
          await ch.close().catch(() => undefined);
          await conn.close().catch(() => undefined);
        },
      };
    },
  };
}

// --- NATS JetStream ---------------------------------------------------------------------------

function natsJetStream(): Peer {
  const nats = require('nats') as typeof import('nats');
  let server = '';
  const ensureStream = async (nc: import('nats').NatsConnection, name: string) => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name, subjects: [name], storage: nats.StorageType.File }).catch(() => undefined);
    return jsm;
  };
  return {
    name: 'NATS 2.9 JetStream, file storage',
    client: 'nats',
    durability: 'file storage, fsync every 2 min (sync_interval default)',
    async start(dir) {
      const port = await freePort();
      server = `127.0.0.1:${port}`;
      const child = spawnServer('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir]);
      await until('nats', 20_000, async () => {
        const nc = await nats.connect({ servers: server, reconnect: false });
        await (await nc.jetstreamManager()).getAccountInfo();
        await nc.close();
        return true;
      });
      return { pid: child.pid!, stop: () => stopChild(child) };
    },
    async producer(subject) {
      const nc = await nats.connect({ servers: server });
      await ensureStream(nc, subject);
      const js = nc.jetstream();
      return { send: async (body) => void (await js.publish(subject, body)), close: () => nc.close() };
    },
    async consumer(subject, onMessage) {
      const nc = await nats.connect({ servers: server });
      const jsm = await ensureStream(nc, subject);
      await jsm.consumers.add(subject, { durable_name: 'g', ack_policy: nats.AckPolicy.Explicit, deliver_policy: nats.DeliverPolicy.All });
      const c = await nc.jetstream().consumers.get(subject, 'g');
      const it = await c.consume({ max_messages: 1000 });
      const loop = (async () => {
        for await (const m of it) {
          onMessage(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
          m.ack();
        }
      })();
      return {
        close: async () => {
          await it.close();
          await loop.catch(() => undefined);
          await nc.close();
        },
      };
    },
  };
}

export const PEERS: Record<string, () => Peer> = {
  'apogee-async': () => apogeeRemoting('ASYNC_FLUSH'),
  'apogee-sync': () => apogeeRemoting('SYNC_FLUSH'),
  'apogee-grpc': () => apogeeGrpc(),
  // Not in the published table: the 5.x PushConsumer's consume rate (issue 17).
  'apogee-grpc-push': () => apogeeGrpc(true),
  redis: redisStreams,
  rabbitmq: rabbitQuorum,
  nats: natsJetStream,
};
