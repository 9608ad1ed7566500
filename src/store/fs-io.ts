// Positional file I/O helpers: callback fs calls wrapped once per batch (not per message).
import * as fs from 'node:fs';

export function writeFull(fd: number, buf: Buffer, off: number, len: number, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (o: number, l: number, p: number): void => {
      fs.write(fd, buf, o, l, p, (err, n) => {
        if (err) reject(err);
        else if (n < l) step(o + n, l - n, p + n);
        else resolve();
      });
    };
    step(off, len, position);
  });
}

export function writevFull(fd: number, bufs: Buffer[], position: number): Promise<void> {
  if (bufs.length === 1) return writeFull(fd, bufs[0], 0, bufs[0].length, position);
  return new Promise((resolve, reject) => {
    fs.writev(fd, bufs, position, (err, n) => {
      if (err) return reject(err);
      const total = bufs.reduce((a, b) => a + b.length, 0);
      if (n >= total) return resolve();
      // Short vectored write: finish the rest with one plain write.
      const rest = Buffer.concat(bufs).subarray(n);
      writeFull(fd, rest, 0, rest.length, position + n).then(resolve, reject);
    });
  });
}

export function writeFullSync(fd: number, buf: Buffer, off: number, len: number, position: number): void {
  let o = off;
  let l = len;
  let p = position;
  while (l > 0) {
    const n = fs.writeSync(fd, buf, o, l, p);
    o += n;
    l -= n;
    p += n;
  }
}

/** Reads exactly len bytes unless the file ends first; returns the count read. */
export function readFull(fd: number, buf: Buffer, off: number, len: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const step = (): void => {
      fs.read(fd, buf, off + got, len - got, position + got, (err, n) => {
        if (err) return reject(err);
        got += n;
        if (n === 0 || got >= len) resolve(got);
        else step();
      });
    };
    step();
  });
}

export function readFullSync(fd: number, buf: Buffer, off: number, len: number, position: number): number {
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, off + got, len - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

export function writevFullSync(fd: number, bufs: Buffer[], position: number): void {
  const total = bufs.reduce((a, b) => a + b.length, 0);
  const n = bufs.length === 1 ? fs.writeSync(fd, bufs[0], 0, bufs[0].length, position) : fs.writevSync(fd, bufs, position);
  if (n < total) {
    const rest = Buffer.concat(bufs).subarray(n);
    writeFullSync(fd, rest, 0, rest.length, position + n);
  }
}
