// The one fsync the reference server's durability promises rest on: a file's or a directory's (a
// rename is only durable once its directory is fsynced).
import { open } from 'node:fs/promises';

/** fsyncs the file or directory at `path`; a filesystem that refuses fsync on a directory is tolerated (the rename is still atomic). */
export async function fsyncPath(path) {
  let fh;
  try {
    fh = await open(path, 'r');
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on directories.
  } finally {
    await fh?.close().catch(() => {});
  }
}
