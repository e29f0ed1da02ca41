import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Reads a small kernel text file (/proc/stat, /proc/meminfo) cheaply: the file stays open
 * and each read is a pread from offset 0 into a reused buffer (procfs regenerates the content
 * on every read from offset 0), so a sample costs no open/close and no allocation beyond the
 * result string. Reads are synchronous: procfs never waits on a disk.
 */
export class ProcFile {
  private fd: number | null = null;
  private buf = Buffer.allocUnsafe(16 * 1024);

  constructor(readonly path: string) {}

  read(): string {
    if (this.fd === null) this.fd = openSync(this.path, 'r');
    try {
      let len = 0;
      for (;;) {
        if (len === this.buf.length) {
          const bigger = Buffer.allocUnsafe(this.buf.length * 2);
          this.buf.copy(bigger, 0, 0, len);
          this.buf = bigger;
        }
        const n = readSync(this.fd, this.buf, len, this.buf.length - len, len);
        if (n === 0) break;
        len += n;
      }
      return this.buf.toString('latin1', 0, len);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  close(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = null;
    }
  }
}
