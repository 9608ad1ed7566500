// `apogee bench producer|consumer`: RocketMQ-benchmark-like load against a name server; stops
// by itself after --count operations or --duration seconds (10 s when neither is given).
import { Option, type Command } from 'commander';
import { runConsumerBench } from './bench-consumer.js';
import { runProducerBench } from './bench-producer.js';

export interface BenchIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

const EXIT_USAGE = 2;
const DEFAULT_DURATION_SEC = 10;

class BenchUsageError extends Error {}

function num(name: string, raw: string | undefined, min: number, integer = true): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new BenchUsageError(`option ${name}: expected ${integer ? 'an integer' : 'a number'} >= ${min}, got "${raw}"`);
  }
  return n;
}

interface CommonOpts {
  namesrvAddr?: string;
  topic: string;
  headers: 'json' | 'binary';
  duration?: string;
  count?: string;
  interval: string;
}

function common(o: CommonOpts, io: BenchIO) {
  const namesrvAddr = o.namesrvAddr ?? io.env.NAMESRV_ADDR;
  if (!namesrvAddr) throw new BenchUsageError('no name server: give -n host:port or set NAMESRV_ADDR');
  let durationSec = num('--duration', o.duration, 0.001, false);
  const count = num('--count', o.count, 1);
  if (durationSec === undefined && count === undefined) durationSec = DEFAULT_DURATION_SEC;
  return {
    namesrvAddr,
    topic: o.topic,
    headers: o.headers,
    durationSec,
    count,
    intervalSec: num('--interval', o.interval, 0.01, false)!,
    out: io.stdout,
    err: io.stderr,
  };
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('-n, --namesrvAddr <addr>', 'name servers "host:port;host:port" (default: $NAMESRV_ADDR)')
    .option('-t, --topic <topic>', 'topic', 'BenchmarkTest')
    .addOption(new Option('--headers <form>', 'request header encoding').choices(['json', 'binary']).default('json'))
    .option('--duration <sec>', `stop after this many seconds (default ${DEFAULT_DURATION_SEC} when --count is not given)`)
    .option('--count <n>', 'stop after this many messages')
    .option('--interval <sec>', 'seconds between report lines', '1');
}

export function registerBenchCommand(program: Command, io: BenchIO, done: (code: number) => void): void {
  const bench = program.command('bench').description('load a broker and report TPS and latency');
  const run = async (name: string, fn: () => Promise<{ total: { count: number } }>): Promise<void> => {
    try {
      const rep = await fn();
      done(rep.total.count > 0 ? 0 : 1);
    } catch (err) {
      io.stderr(`apogee bench ${name}: ${(err as Error).message}\n`);
      done(err instanceof BenchUsageError ? EXIT_USAGE : 1);
    }
  };
  withCommon(bench.command('producer').description('send messages; latency = send round trip'))
    .option('-s, --size <bytes>', 'message body size', '1024')
    .option('-w, --window <n>', 'sends in flight', '64')
    .option('--rate <n>', 'target messages per second (default: unlimited)')
    .action((o: CommonOpts & { size: string; window: string; rate?: string }) =>
      run('producer', () =>
        runProducerBench({
          ...common(o, io),
          size: num('-s', o.size, 1)!,
          window: num('-w', o.window, 1)!,
          rate: num('--rate', o.rate, 1, false),
        }),
      ),
    );
  withCommon(bench.command('consumer').description('consume from the first offset; latency = born to consumed'))
    .option('-g, --group <group>', 'consumer group', 'apogee_bench_consumer')
    .option('--pullBatchSize <n>', 'messages per pull and per handler call', '32')
    .action((o: CommonOpts & { group: string; pullBatchSize: string }) =>
      run('consumer', () => runConsumerBench({ ...common(o, io), group: o.group, pullBatchSize: num('--pullBatchSize', o.pullBatchSize, 1)! })),
    );
}
