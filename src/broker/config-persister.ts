// Writes one metadata file (topics.json, subscriptionGroup.json, consumerOffset.json, ...)
// atomically, one write at a time; a change while a write is under way schedules one more.
import { readFileSync } from 'node:fs';
import type { Logger } from '../common/logger.js';
import { atomicWriteFile } from '../store/index.js';

export class ConfigPersister {
  private writing: Promise<void> | null = null;
  private dirty = false;

  constructor(
    readonly path: string,
    private readonly encode: () => unknown,
    private readonly logger: Logger,
  ) {}

  /** The parsed file, or undefined when it does not exist. A corrupt file is an error naming it. */
  load(): unknown {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`metadata file ${this.path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Persists soon; many calls in a row cost one or two writes. */
  schedule(): void {
    this.dirty = true;
    if (!this.writing) this.writing = this.drain();
  }

  /** Persists now and resolves when the file on disk has everything changed so far. */
  async flush(): Promise<void> {
    this.dirty = true;
    while (this.writing) await this.writing;
    if (this.dirty) {
      this.writing = this.drain();
      await this.writing;
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        const text = JSON.stringify(this.encode(), null, 2);
        try {
          await atomicWriteFile(this.path, text);
        } catch (err) {
          this.logger.error({ err, path: this.path }, 'cannot persist metadata');
        }
      }
    } finally {
      this.writing = null;
    }
  }
}
