// makeSeekable on MP4 with the real wasm build in Node: fragmented files (ffmpeg's H.264 + AAC with
// B-frames, VP9 + Opus, one fragment or many) and a moov-last file become moov-first progressive MP4s,
// judged by ffprobe (packets, duration), a full ffmpeg decode (the same frames as the input) and
// mediabunny's reader (same packet counts); every input kind; a cut-off copy refused unless allowed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSeekable } from '../../../js-glue/index.js';
import { probeMp4 } from './mp4-probe.mjs';

let dir;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'ck-mp4-repair-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const packetCounts = (file) => run('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]).trim();
const duration = (file) => Number(run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).trim());
// Decoded frames with edit lists ignored (ffmpeg ignores a fragmented file's edit list anyway).
const frames = (file) => run('ffmpeg', ['-v', 'error', '-ignore_editlist', '1', '-i', file, '-f', 'framemd5', '-'])
  .split('\n').filter((l) => l && !l.startsWith('#'));
const topBoxes = (bytes) => {
  const out = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 8 <= bytes.length;) {
    let size = v.getUint32(at);
    if (size === 1) size = Number(v.getBigUint64(at + 8));
    out.push(String.fromCharCode(...bytes.subarray(at + 4, at + 8)));
    if (size < 8) break;
    at += size;
  }
  return out;
};

function make(name, args) {
  const file = join(dir, `${name}.mp4`);
  run('ffmpeg', ['-v', 'error', '-y', ...args, file]);
  return file;
}

const SRC = ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '3'];
const CASES = [
  ['h264_aac_fragments', [...SRC, '-c:v', 'libx264', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k',
    '-movflags', 'frag_keyframe+empty_moov+default_base_moof']],
  ['vp9_opus_fragments', [...SRC, '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '30', '-c:a', 'libopus',
    '-movflags', 'frag_keyframe+empty_moov+default_base_moof']],
  ['h264_one_fragment', [...SRC, '-c:v', 'libx264', '-g', '300', '-pix_fmt', 'yuv420p', '-an',
    '-movflags', 'frag_keyframe+empty_moov+default_base_moof']],
];

describe('makeSeekable on MP4', () => {
  test.each(CASES)('%s becomes a moov-first progressive MP4 with the same packets and frames', async (name, args) => {
    const input = make(name, args);
    const inBytes = readFileSync(input);
    expect(topBoxes(inBytes)).toContain('moof');
    // A Blob, and the same bytes as chunks whose first is shorter than the 8 bytes that say "MP4".
    const blob = await makeSeekable(new Blob([inBytes], { type: 'video/mp4' }), { chunkSize: 64 << 10 });
    const out = new Uint8Array(await blob.arrayBuffer());
    const fromParts = await makeSeekable([inBytes.subarray(0, 5), inBytes.subarray(5)]);
    expect(Buffer.compare(Buffer.from(await fromParts.arrayBuffer()), Buffer.from(out))).toBe(0);
    expect(blob.type).toBe('video/mp4');
    expect(topBoxes(out)).toEqual(['ftyp', 'moov', 'mdat']);
    const output = join(dir, `${name}.out.mp4`);
    writeFileSync(output, out);
    expect(packetCounts(output)).toBe(packetCounts(input));
    // 3 s, plus the B-frame shift in files without an edit list (ffmpeg's fragmented ones)
    expect(Math.abs(duration(output) - duration(input))).toBeLessThan(0.05);
    expect(duration(output)).toBeGreaterThan(2.9);
    expect(duration(output)).toBeLessThan(3.1);
    const decoded = frames(output);
    expect(decoded.length).toBeGreaterThanOrEqual(90);
    expect(decoded).toEqual(frames(input));
    const [mbIn, mbOut] = [await probeMp4(inBytes), await probeMp4(out)];
    expect(mbOut.tracks.map((t) => [t.type, t.codec, t.packets, t.keyPackets]))
      .toEqual(mbIn.tracks.map((t) => [t.type, t.codec, t.packets, t.keyPackets]));
    expect(Math.abs(mbOut.duration - mbIn.duration)).toBeLessThan(0.05);
  });

  test('a moov-last file gets its moov first; info says what was done', async () => {
    const input = make('moov_last', [...SRC, '-c:v', 'libx264', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac']);
    expect(topBoxes(readFileSync(input))).toEqual(['ftyp', 'free', 'mdat', 'moov']);
    let info = null;
    const output = join(dir, 'moov_last.out.mp4');
    await makeSeekable(input, { output, oninfo: (i) => { info = i; } });
    expect(topBoxes(readFileSync(output))).toEqual(['ftyp', 'moov', 'mdat']);
    expect(packetCounts(output)).toBe(packetCounts(input));
    expect(frames(output)).toEqual(frames(input));
    expect(info).toMatchObject({ docType: 'mp4', mimeType: 'video/mp4', truncated: false, clusters: 0 });
    expect(info.codecs[0]).toMatch(/^avc1\.64/);
    expect(info.codecs[1]).toBe('mp4a.40.2');
    expect(info.frames).toBe(packetCounts(input).split('\n').map(Number).reduce((a, b) => a + b, 0));
    expect(info.duration).toBeCloseTo(3, 1);
  });

  test('a recording cut off mid-fragment is refused, and with allowTruncated keeps every complete sample', async () => {
    const input = make('cut_source', [...SRC, '-c:v', 'libx264', '-g', '15', '-pix_fmt', 'yuv420p', '-an',
      '-movflags', 'frag_keyframe+empty_moov+default_base_moof']);
    const whole = readFileSync(input);
    const cut = whole.subarray(0, Math.floor(whole.length * 0.6));
    await expect(makeSeekable(cut)).rejects.toThrow(/makeSeekable: truncated: box 'mdat' at byte \d+ .*allowTruncated/);
    let info = null;
    const blob = await makeSeekable(cut, { allowTruncated: true, oninfo: (i) => { info = i; } });
    const out = new Uint8Array(await blob.arrayBuffer());
    expect(info.truncated).toBe(true);
    expect(info.droppedBytes).toBeGreaterThan(0);
    const output = join(dir, 'cut.out.mp4');
    writeFileSync(output, out);
    const kept = Number(packetCounts(output));
    expect(kept).toBe(info.frames);
    expect(kept).toBeGreaterThan(30);
    expect(kept).toBeLessThan(90);
    // The frames kept decode to the input's first frames.
    expect(frames(output)).toEqual(frames(input).slice(0, kept));
  });

  test('bad MP4 input is a clear Error', async () => {
    const input = readFileSync(make('bad_source', [...SRC, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-an', '-movflags', '+faststart']));
    const unknown = Buffer.from(input);
    const at = unknown.indexOf('avc1', 100);
    unknown.write('xyz1', at);
    await expect(makeSeekable(unknown)).rejects.toThrow(/makeSeekable: unknown codec: sample entry 'xyz1'/);
    const huge = Buffer.concat([input.subarray(0, 32), Buffer.from([0, 0, 0, 1, 0x6d, 0x64, 0x61, 0x74, 0x80, 0, 0, 0, 0, 0, 0, 0])]);
    await expect(makeSeekable(huge)).rejects.toThrow(/64-bit size of 9223372036854775808/);
  });
});
