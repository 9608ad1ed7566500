// DataVersion: bumped on every metadata change so the name server can tell a fresh registration
// from a repeat, and its JSON form in REGISTER_BROKER and QUERY_DATA_VERSION bodies.
import { asObject, numberField } from './json-body.js';

/** The JSON form. */
export interface DataVersionData {
  timestamp: number;
  counter: number;
  stateVersion: number;
}

/** The broker's live counter for one metadata table. */
export class DataVersion implements DataVersionData {
  timestamp = Date.now();
  counter = 0;
  stateVersion = 0;

  next(): void {
    this.timestamp = Date.now();
    this.counter++;
  }

  toJSON(): DataVersionData {
    return { timestamp: this.timestamp, counter: this.counter, stateVersion: this.stateVersion };
  }
}

/** From JSON (absent = all zero); throws BodyFormatError naming a field that is not a number. */
export function toDataVersion(v: unknown): DataVersionData {
  if (v === undefined || v === null) return { timestamp: 0, counter: 0, stateVersion: 0 };
  const o = asObject(v, 'dataVersion');
  return {
    timestamp: numberField(o.timestamp, 0, 'dataVersion.timestamp'),
    counter: numberField(o.counter, 0, 'dataVersion.counter'),
    stateVersion: numberField(o.stateVersion, 0, 'dataVersion.stateVersion'),
  };
}

export function sameDataVersion(a: DataVersionData, b: DataVersionData): boolean {
  return a.timestamp === b.timestamp && a.counter === b.counter && a.stateVersion === b.stateVersion;
}
