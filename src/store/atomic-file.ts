// Metadata files (topics, groups, consumer offsets, delay offsets) are replaced whole: write a
// temp file, fsync it, rename over the old one, fsync the directory, so a crash leaves either
// the old or the new content, never a mix.
import { promises as fsp, readFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

let tmpCounter = 0;

export async function atomicWriteFile(path: string, data: string | Buffer): Promise<void> {
  const dir = dirname(path);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    // A full disk must not leave half-written temp files behind to take more of it.
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, path);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Some filesystems refuse a directory fsync; the rename is still atomic there.
  } finally {
    await fh?.close();
  }
}

/**
 * A JSON document on disk with an in-memory copy. `update` mutates the copy and persists it;
 * concurrent persists collapse into one trailing write, and `flush` waits until disk has it all.
 */
export class JsonConfigFile<T> {
  private value: T;
  private writing: Promise<void> | null = null;
  private dirty = false;
  private error: Error | null = null;

  private constructor(
    readonly path: string,
    initial: T,
  ) {
    this.value = initial;
  }

  /** Loads path, or starts from defaults() when it does not exist. Invalid JSON is an error naming the file. */
  static load<T>(path: string, defaults: () => T): JsonConfigFile<T> {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new JsonConfigFile(path, defaults());
      throw err;
    }
    try {
      return new JsonConfigFile(path, JSON.parse(text) as T);
    } catch (err) {
      throw new Error(`config file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }

  get(): T {
    return this.value;
  }

  /** Replaces or mutates the value and schedules a persist. */
  update(fn: (v: T) => T | void): void {
    const r = fn(this.value);
    if (r !== undefined) this.value = r;
    this.schedule();
  }

  schedule(): void {
    this.dirty = true;
    if (!this.writing) this.writing = this.drain();
  }

  /** Resolves once everything changed before the call is on disk; rejects when the write failed. */
  async flush(): Promise<void> {
    this.schedule();
    while (this.writing) await this.writing;
    if (this.dirty && this.error) throw this.error;
  }

  private async drain(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        try {
          await atomicWriteFile(this.path, JSON.stringify(this.value, null, 2));
          this.error = null;
        } catch (err) {
          // Kept dirty: the next update or flush writes again (e.g. once a full disk has room).
          this.dirty = true;
          this.error = err as Error;
          return;
        }
      }
    } finally {
      this.writing = null;
    }
  }
}
