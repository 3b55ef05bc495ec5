// mediabunny's reader as an independent judge of an MP4 file (used by the native MP4 tests and the
// Node tests): prints {"format", "duration", "tracks": [{"type", "codec", "packets", "keyPackets",
// "duration"}]} for the file given, or exits 1 with mediabunny's error.
//   node tests/node/video/mp4-probe.mjs file.mp4
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Input, ALL_FORMATS, BufferSource, EncodedPacketSink } from 'mediabunny';

export async function probeMp4(bytes) {
  const input = new Input({ formats: ALL_FORMATS, source: new BufferSource(bytes) });
  const format = await input.getFormat();
  const tracks = [];
  for (const track of await input.getTracks()) {
    let packets = 0;
    let keyPackets = 0;
    for await (const p of new EncodedPacketSink(track).packets()) {
      packets += 1;
      if (p.type === 'key') keyPackets += 1;
    }
    tracks.push({ type: track.type, codec: track.codec, packets, keyPackets, duration: await track.computeDuration() });
  }
  return { format: format.name, duration: await input.computeDuration(), tracks };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  probeMp4(readFileSync(process.argv[2])).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => { console.error(String(e?.stack || e)); process.exit(1); });
}
