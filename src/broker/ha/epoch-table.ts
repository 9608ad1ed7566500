// Which epoch wrote which stretch of the commit log (RocketMQ's EpochFileCache): a list of
// (epoch, start offset), one entry per election this member's log has seen. A master adds an
// entry when it is elected; a slave adds one when the master's data first carries a newer epoch.
// With it, a master tells a returning member exactly where that member's log stops agreeing with
// its own, and the member cuts there. Persisted whole on every change (temp file, fsync, rename).
import { readFileSync } from 'node:fs';
import { atomicWriteFile } from '../../store/index.js';
import type { EpochView } from './ha-master.js';

export interface EpochEntry {
  epoch: number;
  start: number;
}

export class EpochTable implements EpochView {
  private entries: EpochEntry[] = [];

  constructor(private readonly path: string) {}

  load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return;
    }
    const parsed = JSON.parse(text) as { entries?: EpochEntry[] };
    const list = (parsed.entries ?? []).filter((e) => Number.isInteger(e.epoch) && Number.isInteger(e.start) && e.start >= 0);
    this.entries = list.sort((a, b) => a.epoch - b.epoch);
  }

  current(): EpochEntry {
    return this.entries[this.entries.length - 1] ?? { epoch: 0, start: 0 };
  }

  /** Where the first epoch after `epoch` starts, or undefined when none followed it. */
  endOf(epoch: number): number | undefined {
    return this.entries.find((e) => e.epoch > epoch)?.start;
  }

  all(): readonly EpochEntry[] {
    return this.entries;
  }

  /** Records that `epoch` starts at `start`; an older or equal epoch changes nothing. */
  async add(epoch: number, start: number): Promise<void> {
    if (epoch <= this.current().epoch && this.entries.length > 0) return;
    this.entries.push({ epoch, start });
    await this.save();
  }

  /** After the log was cut at offset: epochs that started above it never happened here. */
  async truncate(offset: number): Promise<void> {
    const keep = this.entries.filter((e) => e.start <= offset);
    if (keep.length === this.entries.length) return;
    this.entries = keep;
    await this.save();
  }

  /** A replica that restarted its log at its master's oldest segment takes the master's table whole. */
  async replace(entries: readonly EpochEntry[]): Promise<void> {
    this.entries = entries.filter((e) => Number.isInteger(e.epoch) && e.start >= 0).map((e) => ({ epoch: e.epoch, start: e.start })).sort((a, b) => a.epoch - b.epoch);
    await this.save();
  }

  private save(): Promise<void> {
    return atomicWriteFile(this.path, JSON.stringify({ entries: this.entries }));
  }
}
