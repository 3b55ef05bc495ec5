// makeSeekable on the real wasm build in Node: real Chromium MediaRecorder recordings
// (tests/fixtures/video, made by record-chrome-fixtures.mjs) and ffmpeg live files, judged by ffprobe,
// mkvinfo and ffmpeg (decoded frames, seeking); every input and output kind; bad input.
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeSeekable, makeSeekableChunks } from '../../../js-glue/index.js';

const FIXTURES = new URL('../../fixtures/video/', import.meta.url);
const CHROME = [['vp8_opus', 'webm'], ['vp9_opus', 'webm'], ['av1_opus', 'webm'], ['h264_opus', 'mkv']];
let dir;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'ck-repair-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const duration = (file) => Number(run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).trim());
const packets = (file) => run('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]).trim();
const framemd5 = (file) => run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'framemd5', '-']).split('\n').filter((l) => !l.startsWith('#')).join('\n');

// md5 of the first video frame shown at or after t seconds: decoding from the start, or seeking with -ss.
function frameAt(file, t, seek) {
  const args = ['-v', 'error', ...(seek ? ['-ss', String(t)] : []), '-i', file, '-map', '0:v:0', ...(seek ? ['-frames:v', '1'] : []), '-f', 'framemd5', '-'];
  let tb = 1;
  for (const line of run('ffmpeg', args).split('\n')) {
    const m = /^#tb 0: (\d+)\/(\d+)/.exec(line);
    if (m) tb = Number(m[1]) / Number(m[2]);
    if (!line || line.startsWith('#')) continue;
    const f = line.split(',').map((s) => s.trim());
    if (seek || Number(f[2]) * tb >= t - 1e-6) return f[5];
  }
  return null;
}

function chromeFixture(name, ext) {
  const bytes = readFileSync(new URL(`chrome_${name}.${ext}`, FIXTURES));
  const sizes = JSON.parse(readFileSync(new URL(`chrome_${name}.chunks.json`, FIXTURES), 'utf8'));
  const chunks = [];
  let at = 0;
  for (const n of sizes) { chunks.push(bytes.subarray(at, at + n)); at += n; }
  return { bytes, chunks, file: new URL(`chrome_${name}.${ext}`, FIXTURES).pathname };
}

async function collect(iterable) {
  const parts = [];
  for await (const c of iterable) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe.each(CHROME)('Chromium MediaRecorder %s', (name, ext) => {
  let fx;
  let repaired;
  let out;
  beforeAll(async () => {
    fx = chromeFixture(name, ext);
    // The chunks as MediaRecorder delivered them, with a 1-byte first chunk and an empty last one.
    const first = fx.chunks[0];
    const parts = [new Blob([first.subarray(0, 1)]), first.subarray(1), ...fx.chunks.slice(1).map((c) => new Blob([c])), new Uint8Array(0)];
    const blob = await makeSeekable(new Blob(parts, { type: 'video/webm' }));
    expect(blob).toBeInstanceOf(Blob);
    expect(blob.type).toBe('video/webm');
    repaired = Buffer.from(await blob.arrayBuffer());
    out = join(dir, `${name}.${ext}`);
    writeFileSync(out, repaired);
  });

  test('ffprobe: duration within a frame of ffmpeg\'s own remux, every packet kept', () => {
    const ref = join(dir, `${name}_ref.${ext}`);
    run('ffmpeg', ['-v', 'error', '-y', '-i', fx.file, '-c', 'copy', ref]);
    expect(Number.isNaN(Number(run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', fx.file]).trim()))).toBe(true);
    expect(Math.abs(duration(out) - duration(ref))).toBeLessThanOrEqual(1 / 30 + 1e-3);
    expect(duration(out)).toBeGreaterThan(1.8);
    expect(packets(out)).toBe(packets(fx.file));
  });

  test('mkvinfo: known sizes, SeekHead, Cues before the Clusters', () => {
    const info = run('mkvinfo', ['-v', '-v', out]);
    expect(info).not.toMatch(/size unknown/);
    expect(info).toMatch(/\|\+ Seek head/);
    expect(info).toMatch(/\| \+ Cue point/);
    expect(info).toMatch(/\+ Duration: 00:00:0/);
    expect(info.indexOf('|+ Cues')).toBeLessThan(info.indexOf('|+ Cluster'));
  });

  test('decoded frames are identical and ffmpeg -ss seeks to the right frame', () => {
    expect(framemd5(out)).toBe(framemd5(fx.file));
    expect(frameAt(out, 1.0, true)).toBe(frameAt(fx.file, 1.0, false));
  });

  test('every input and output kind gives the same bytes', async () => {
    const opts = { chunkSize: 64 << 10 };
    expect(Buffer.from(await (await makeSeekable(fx.bytes, opts)).arrayBuffer())).toEqual(repaired);
    expect(Buffer.from(await (await makeSeekable(fx.chunks)).arrayBuffer())).toEqual(repaired);
    expect(await collect(makeSeekableChunks(fx.file, opts))).toEqual(repaired);
    const handle = await open(fx.file, 'r');
    try {
      expect(await collect(makeSeekableChunks(handle))).toEqual(repaired);
    } finally {
      await handle.close();
    }
    // Streams are read once (spooled to a temp file for pass 2).
    const web = new ReadableStream({ start(c) { for (const ch of fx.chunks) c.enqueue(ch); c.close(); } });
    expect(Buffer.from(await (await makeSeekable(web)).arrayBuffer())).toEqual(repaired);
    expect(Buffer.from(await (await makeSeekable(createReadStream(fx.file, { highWaterMark: 1000 }))).arrayBuffer())).toEqual(repaired);

    const path = join(dir, `${name}_path.${ext}`);
    let early = null;
    const info = await makeSeekable(fx.file, { output: path, oninfo: (i) => { early = i; } });
    expect(readFileSync(path)).toEqual(repaired);
    expect(early).toEqual(info);
    expect(info.outputSize).toBe(repaired.length);
    expect(info.inputSize).toBe(fx.bytes.length);
    expect(info.duration).toBeCloseTo(duration(out), 3);
    expect(info.cues).toBeGreaterThan(0);
    expect(info.truncated).toBe(false);
    expect(info.codecs[1]).toBe('A_OPUS');
    await makeSeekable(fx.file, { output: pathToFileURL(path) });
    expect(readFileSync(path)).toEqual(repaired);

    const handleOut = await open(join(dir, `${name}_fh.${ext}`), 'w');
    await makeSeekable(fx.bytes, { output: handleOut });
    await handleOut.close();
    expect(readFileSync(join(dir, `${name}_fh.${ext}`))).toEqual(repaired);

    const got = [];
    const ws = new WritableStream({ write(c) { got.push(Buffer.from(c)); } });
    await makeSeekable(new Blob([fx.bytes]), { output: ws });
    expect(Buffer.concat(got)).toEqual(repaired);

    const data = [];
    const progress = [];
    const info2 = await makeSeekable(fx.bytes, { ondata: (b) => data.push(Buffer.from(b)), onprogress: (p) => progress.push(p) });
    expect(Buffer.concat(data)).toEqual(repaired);
    expect(info2.frames).toBe(info.frames);
    expect(progress.at(-1)).toEqual({ pass: 2, bytes: fx.bytes.length, total: fx.bytes.length });
  });

  test('repairing the repaired file changes nothing', async () => {
    expect(Buffer.from(await (await makeSeekable(repaired)).arrayBuffer())).toEqual(repaired);
  });
});

describe('ffmpeg live files', () => {
  const cases = [
    ['vp8', ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30', '-c:v', 'libvpx', '-b:v', '300k', '-g', '30'], 'webm'],
    ['h264_opus', ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-c:a', 'libopus'], 'matroska'],
    ['opus', ['-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-c:a', 'libopus'], 'webm'],
  ];
  test.each(cases)('%s', async (name, args, format) => {
    const input = join(dir, `live_${name}.${format === 'webm' ? 'webm' : 'mkv'}`);
    run('ffmpeg', ['-v', 'error', '-y', ...args, '-t', '3', '-f', format, '-live', '1', '-cluster_time_limit', '1000', input]);
    const output = join(dir, `live_${name}_out.${format === 'webm' ? 'webm' : 'mkv'}`);
    const info = await makeSeekable(input, { output });
    const frame = name === 'opus' ? 0.02 : 1 / 30;
    expect(Math.abs(duration(output) - 3)).toBeLessThanOrEqual(frame + 1e-3);
    expect(Math.abs(info.duration - duration(output))).toBeLessThan(1e-3);
    expect(packets(output)).toBe(packets(input));
    expect(framemd5(output)).toBe(framemd5(input));
    expect(run('mkvinfo', ['-v', '-v', output])).toMatch(/\| \+ Cue point/);
    if (name !== 'opus') expect(frameAt(output, 1.5, true)).toBe(frameAt(input, 1.5, false));
  });
});

describe('bad input', () => {
  const vp8 = () => chromeFixture('vp8_opus', 'webm').bytes;

  test.each([
    ['an empty Blob', () => new Blob([]), /^makeSeekable: the input is empty \(0 bytes\)$/],
    ['an empty array', () => new Uint8Array(0), /the input is empty \(0 bytes\)/],
    ['random bytes', () => Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) & 255), /not a WebM\/Matroska file: it does not start with an EBML header/],
    ['a PNG', () => readFileSync(join(dir, 'image.png')), /\(it looks like a PNG image\)/],
    // MP4 is repaired too (tests/node/video/mp4-repair.test.mjs), but not MPEG-4 Part 2 in it
    ['an MP4 of a codec it does not take', () => readFileSync(join(dir, 'clip.mp4')), /unknown codec: sample entry 'mp4v' at byte \d+ of track 1/],
    ['an unknown codec', () => readFileSync(join(dir, 'mpeg4.mkv')), /unsupported codec "V_MPEG4\/ISO\/ASP" \(track 1\)/],
    ['a truncated recording', () => vp8().subarray(0, 20000), /the input is truncated: it ends at byte 20000 inside/],
    ['headers only', () => vp8().subarray(0, 206), /the recording holds no frames/],
  ])('%s is a clear Error', async (what, make, message) => {
    if (!existsSync(join(dir, 'image.png'))) {
      run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=32x32', '-frames:v', '1', join(dir, 'image.png')]);
      run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=10', '-t', '1', '-c:v', 'mpeg4', join(dir, 'clip.mp4')]);
      run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=10', '-t', '1', '-c:v', 'mpeg4', '-live', '1', join(dir, 'mpeg4.mkv')]);
    }
    const err = await makeSeekable(make()).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TypeError);
    expect(err.message).toMatch(message);
  });

  test('a truncated recording never leaves a file that looks complete, unless salvage is asked for', async () => {
    const cut = vp8().subarray(0, 20000);
    const path = join(dir, 'cut.webm');
    await expect(makeSeekable(cut, { output: path })).rejects.toThrow(/truncated/);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);
    const info = await makeSeekable(cut, { output: path, allowTruncated: true });
    expect(info.truncated).toBe(true);
    expect(info.droppedBytes).toBeGreaterThan(0);
    expect(duration(path)).toBeGreaterThan(0.5);
    expect(duration(path)).toBeLessThan(info.duration + 0.05);
    expect(spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']).stderr.toString()).toBe('');
  });

  test('an input that changes between the two passes is caught', async () => {
    const path = join(dir, 'grow.webm');
    writeFileSync(path, vp8());
    const e2 = await makeSeekable(path, {
      oninfo: () => writeFileSync(path, Buffer.concat([vp8(), Buffer.alloc(10)])),
    }).then(() => null, (e) => e);
    expect(e2 && e2.message).toMatch(/the input changed between the two passes/);
  });

  test.each([
    [42, TypeError, /input must be a Blob, an ArrayBuffer or typed array/],
    [null, TypeError, /got null/],
    [[new Blob([]), 'x'], TypeError, /input\[1\] must be a Blob/],
  ])('input %p is a TypeError', async (input, type, message) => {
    const err = await makeSeekable(input).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(type);
    expect(err.message).toMatch(message);
  });

  test('bad options', async () => {
    const b = new Uint8Array(10);
    await expect(makeSeekable(b, { chunkSize: 5 })).rejects.toThrow(RangeError);
    await expect(makeSeekable(b, { chunk: 5 })).rejects.toThrow(/unknown option "chunk"/);
    await expect(makeSeekable(b, { output: 'x', ondata: () => {} })).rejects.toThrow(/either output or ondata/);
    await expect(makeSeekable(b, { output: 42 })).rejects.toThrow(TypeError);
    await expect(makeSeekable(b, { allowTruncated: 'yes' })).rejects.toThrow(TypeError);
    await expect(makeSeekable('/nonexistent/file.webm')).rejects.toThrow(/cannot open \/nonexistent\/file.webm/);
  });
});
