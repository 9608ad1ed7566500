/** RocketMQ DataVersion: bumped on every metadata change so the namesrv can tell fresh registrations. */
export class DataVersion {
  timestamp = Date.now();
  counter = 0;
  stateVersion = 0;

  next(): void {
    this.timestamp = Date.now();
    this.counter++;
  }

  toJSON(): { timestamp: number; counter: number; stateVersion: number } {
    return { timestamp: this.timestamp, counter: this.counter, stateVersion: this.stateVersion };
  }
}
