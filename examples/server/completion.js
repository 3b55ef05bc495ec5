// What a capture still needs after its answer was sent: a REST recording is made a capture without
// reading its bytes (assembly.js), so its video facts (duration, size, codec: a read of the whole
// file) and, when the chunks did not arrive in order, its SHA-256 are computed here, in the background,
// and written into capture.json. Whoever serves the capture first waits for them (settle), so a client
// never sees a capture without them; after a restart, the first request for such a capture computes them.
import { readVideoFacts } from './video-facts.js';

export function makeCompletion({ storage, log = () => {} }) {
  const jobs = new Map(); // capture id -> Promise of the completed record (or null: the capture is gone)

  const needs = (rec) => !rec.sha256 || (rec.type === 'video' && !Object.hasOwn(rec, 'video'));

  async function complete(rec) {
    if (!rec.sha256) rec.sha256 = await storage.digestCapture(rec);
    if (rec.type === 'video' && !Object.hasOwn(rec, 'video')) rec.video = await storage.withLocalFile(rec, readVideoFacts);
    if (!(await storage.getCapture(rec.owner, rec.id))) return null; // deleted meanwhile
    await storage.updateCapture(rec);
    return rec;
  }

  function start(rec) {
    let job = jobs.get(rec.id);
    if (!job) {
      job = complete(rec)
        .catch((e) => { log(e, rec); return null; })
        .finally(() => jobs.delete(rec.id));
      jobs.set(rec.id, job);
    }
    return job;
  }

  return {
    /** Starts completing `rec` in the background when it needs it. */
    after(rec) {
      if (needs(rec)) start(rec);
    },
    /** `rec` with its digest and facts (waits for them; computes them when no job is running). */
    async settle(rec) {
      if (!rec || (!needs(rec) && !jobs.has(rec.id))) return rec;
      await start(rec);
      return (await storage.getCapture(rec.owner, rec.id)) || rec;
    },
    /** Every job still running (tests and shutdown wait for them). */
    idle: () => Promise.all([...jobs.values()]),
  };
}
