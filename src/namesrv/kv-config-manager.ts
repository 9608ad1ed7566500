// Namespaced key/value settings held by the name server (RocketMQ KVConfigManager), e.g.
// ORDER_TOPIC_CONFIG. When a path is configured every change is written to a temp file,
// fsynced and renamed over the old one, so a crash leaves either the old or the new table.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

type Table = Map<string, Map<string, string>>;

export class KVConfigManager {
  private readonly table: Table = new Map();
  private writing: Promise<void> = Promise.resolve();

  /** @param path file to persist to (Java's kvConfig.json form); undefined keeps it in memory. */
  constructor(private readonly path?: string) {}

  /** Reads the persisted table if the file exists; a corrupt file is an error, not silently emptied. */
  async load(): Promise<void> {
    if (!this.path) return;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`KV config file ${this.path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    const configTable = (parsed as { configTable?: unknown } | null)?.configTable;
    if (typeof configTable !== 'object' || configTable === null) {
      throw new Error(`KV config file ${this.path} has no configTable object`);
    }
    for (const [ns, kv] of Object.entries(configTable as Record<string, Record<string, unknown>>)) {
      const m = new Map<string, string>();
      for (const [k, v] of Object.entries(kv ?? {})) m.set(k, String(v));
      this.table.set(ns, m);
    }
  }

  get(namespace: string, key: string): string | undefined {
    return this.table.get(namespace)?.get(key);
  }

  /** The namespace as `{"table":{…}}` JSON (KVTable), or undefined when it is empty or unknown. */
  getKVListByNamespace(namespace: string): Buffer | undefined {
    const m = this.table.get(namespace);
    if (!m || m.size === 0) return undefined;
    return Buffer.from(JSON.stringify({ table: Object.fromEntries(m) }));
  }

  /** Resolves once the change is durable (immediately without a path). */
  put(namespace: string, key: string, value: string): Promise<void> {
    let m = this.table.get(namespace);
    if (!m) this.table.set(namespace, (m = new Map()));
    m.set(key, value);
    return this.persist();
  }

  delete(namespace: string, key: string): Promise<void> {
    const m = this.table.get(namespace);
    if (!m?.delete(key)) return this.writing;
    if (m.size === 0) this.table.delete(namespace);
    return this.persist();
  }

  /** Waits for pending writes (shutdown). */
  flush(): Promise<void> {
    return this.writing;
  }

  private persist(): Promise<void> {
    if (!this.path) return Promise.resolve();
    const path = this.path;
    const snapshot = this.snapshot();
    // Writes are chained so an older snapshot never lands after a newer one.
    this.writing = this.writing.catch(() => undefined).then(() => writeAtomically(path, snapshot));
    return this.writing;
  }

  private snapshot(): string {
    const configTable: Record<string, Record<string, string>> = {};
    for (const [ns, m] of this.table) configTable[ns] = Object.fromEntries(m);
    return JSON.stringify({ configTable }, null, 1);
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
