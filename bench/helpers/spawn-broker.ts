// Starts `apogee standalone` as a child process for end-to-end benchmarks and reads its ports from
// the ready line. BROKER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") go to its node.
import { spawn, type ChildProcess } from 'node:child_process';

export interface BenchBroker {
  child: ChildProcess;
  namesrv: string;
  broker: string;
  grpc: string;
  stop(): Promise<void>;
}

/** extraArgs go after the defaults, so a flag given there wins (e.g. --flushDiskType=SYNC_FLUSH). */
export async function spawnBenchBroker(dataDir: string, extraArgs: readonly string[] = []): Promise<BenchBroker> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
      'bin/apogee.js',
      'standalone',
      '--namesrvPort=0',
      '--listenPort=0',
      '--grpcServerPort=0',
      '--httpPort=0',
      '--brokerIP1=127.0.0.1',
      '--storePathRootDir',
      dataDir,
      '--logLevel=warn',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('broker did not print its ready line within 30 s')), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /apogee ready: .*/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[0]);
      }
    });
    child.on('exit', (code) => reject(new Error(`broker exited early with ${code}`)));
  });
  const get = (k: string): string => line.split(' ').find((p) => p.startsWith(`${k}=`))?.slice(k.length + 1) ?? '';
  return {
    child,
    namesrv: get('namesrv'),
    broker: get('broker'),
    grpc: get('grpc'),
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
