// Starts a namesrv and a broker in-process on port 0 over a temp dir, for tests that drive
// them with real clients. `await using s = await startStandalone()` cleans everything up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, silentLogger, type LogLevel } from '../../src/common/logger.js';
import { loadConfig, type BrokerConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { startBroker, type BrokerController } from '../../src/broker/index.js';

export interface Standalone {
  namesrvAddr: string;
  brokerAddr: string;
  controller: BrokerController;
  dataDir: string;
  /** Stops the broker only (the namesrv and data stay), for restart tests. */
  stopBroker(): Promise<void>;
  /** Starts a broker again over the same data directory and name server. */
  restartBroker(overrides?: Partial<Record<keyof BrokerConfig, string | number | boolean>>): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export type BrokerOverrides = Partial<Record<keyof BrokerConfig, string | number | boolean>>;

function brokerConfig(namesrvAddr: string, dataDir: string, overrides: BrokerOverrides): BrokerConfig {
  return loadConfig('broker', {
    flags: {
      brokerIP1: '127.0.0.1',
      host: '127.0.0.1',
      listenPort: 0,
      namesrvAddr,
      storePathRootDir: dataDir,
      mappedFileSizeCommitLog: 64 * 1024 * 1024,
      ...overrides,
    },
  });
}

export async function startStandalone(overrides: BrokerOverrides = {}, dataDir?: string): Promise<Standalone> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'apogee-sa-'));
  const level = (process.env.APOGEE_TEST_LOG as LogLevel | undefined) ?? undefined;
  const logger = level ? createLogger(level) : silentLogger;
  const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1' } }), { logger });
  const namesrvAddr = ns.addresses.namesrv;
  let broker = await startBroker(brokerConfig(namesrvAddr, join(dir, 'store'), overrides), { logger });
  const s: Standalone = {
    namesrvAddr,
    brokerAddr: broker.addresses.broker,
    controller: broker.controller,
    dataDir: dir,
    stopBroker: () => broker.close(),
    restartBroker: async (more = {}) => {
      await broker.close();
      broker = await startBroker(brokerConfig(namesrvAddr, join(dir, 'store'), { ...overrides, ...more }), { logger });
      s.brokerAddr = broker.addresses.broker;
      s.controller = broker.controller;
    },
    close: async () => {
      await broker.close();
      await ns.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]: () => s.close(),
  };
  return s;
}
