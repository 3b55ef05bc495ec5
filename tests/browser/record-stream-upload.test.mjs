// A camera + microphone recording (Chromium's fake devices, playing files made here) against the
// reference server: uploaded while it records, and recovered after the page was closed mid-recording
// (its journal in IndexedDB). The server's assembled file and the recovered file both have one VP8 and
// one Opus stream of matching length (ffprobe), decode fully (ffmpeg), seek and play from the middle
// (ffmpeg -ss, both streams) and carry Cues (mkvinfo).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReadyPage } from './browser.mjs';
import { useServerAndBrowser } from './server-and-browser.mjs';
import { captureBytes, TOKEN } from '../node/upload/uploader.helpers.mjs';
import { makeFakeCapture, fakeCaptureArgs, decodesCleanly, audioSeconds } from './record-stream.helpers.mjs';

const dir = mkdtempSync(join(tmpdir(), 'ck-stream-upload-'));
const env = useServerAndBrowser({}, { args: fakeCaptureArgs(makeFakeCapture(dir)) });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FRAME = 1 / 30;
const url = () => `${env.srv.url}/tests/browser/pages/record-recovery.html?token=${TOKEN}`;

const open = (context) => openReadyPage(context, url());

/** The judges' view of a recording: streams, lengths, a clean decode, playing from the middle, Cues. */
function judge(bytes, name) {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries',
    'stream=codec_type,codec_name,nb_read_frames,channels:format=duration', '-of', 'json', p], { encoding: 'utf8' }));
  const video = probe.streams.filter((s) => s.codec_type === 'video');
  const audio = probe.streams.filter((s) => s.codec_type === 'audio');
  const seek = spawnSync('ffmpeg', ['-v', 'error', '-ss', (Number(probe.format.duration) / 2).toFixed(3), '-i', p,
    '-map', '0', '-fps_mode', 'drop', '-f', 'framemd5', '-'], { encoding: 'utf8' });
  const played = seek.stdout.split('\n').filter((l) => l && !l.startsWith('#'));
  return {
    path: p,
    codecs: [video.map((s) => s.codec_name), audio.map((s) => s.codec_name)],
    frames: Number(video[0]?.nb_read_frames),
    duration: Number(probe.format.duration),
    sound: audio.length ? audioSeconds(p) : 0,
    decode: decodesCleanly(p),
    seek: { status: seek.status, stderr: seek.stderr },
    // framemd5 lines start with the stream index: 0 is the video, 1 the sound
    playedFromMiddle: { video: played.filter((l) => l.startsWith('0,')).length, audio: played.filter((l) => l.startsWith('1,')).length },
    cues: /\+ Cues/.test(execFileSync('mkvinfo', ['-v', p], { encoding: 'utf8', maxBuffer: 1 << 26 })),
  };
}

function expectAudioAndVideo(j, seconds) {
  expect(j.codecs).toEqual([['vp8'], ['opus']]);
  expect(j.frames).toBeGreaterThan(20 * seconds); // the fake camera sends 30 frames a second (fewer on a busy machine)
  // the sound lasts as long as the picture: within a frame and an Opus packet
  expect(Math.abs(j.sound - j.duration)).toBeLessThanOrEqual(FRAME + 0.02);
  expect(j.decode).toEqual({ status: 0, stderr: '' });
  expect(j.seek).toEqual({ status: 0, stderr: '' });
  expect(j.playedFromMiddle.video).toBeGreaterThan(10);
  expect(j.playedFromMiddle.audio).toBeGreaterThan(10);
  expect(j.cues).toBe(true);
}

test('camera + microphone on webcodecs, uploaded while recording: the server\'s file has sound and picture, decodes, seeks and plays', async () => {
  const context = await env.browser.newContext();
  try {
    const page = await open(context);
    const out = await page.evaluate(async () => {
      // small parts: the fake camera's flat pictures make about 20 KB of WebM a second
      const uploader = ck.createUploader({ name: 'stream-upload', transport: ck.createRestTransport({ baseUrl: location.origin }), token: new URLSearchParams(location.search).get('token'), minPartSize: 8 * 1024 });
      await uploader.ready;
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240, frameRate: 30 }, audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
      const upload = await uploader.startRecording({ filename: 'camera-upload.webm' }, { seekable: true });
      let recording = true;
      let partsDuring = 0;
      uploader.addEventListener('partuploaded', (e) => { if (e.detail.itemId === upload.itemId && recording) partsDuring++; });
      // a Cluster (and so a range for the upload) every half second
      const rec = await ck.createRecorder(stream, { backend: 'webcodecs', codec: 'vp8', keyframeInterval: 15, ondata: upload.ondata });
      await new Promise((r) => setTimeout(r, 4000));
      const result = await rec.stop();
      recording = false;
      await upload.stop({ duration: result.duration });
      await uploader.whenIdle();
      const progress = uploader.getProgress();
      await uploader.close();
      for (const t of stream.getTracks()) t.stop();
      return { partsDuring, failed: progress.failed, itemId: upload.itemId, result: { backend: result.backend, duration: result.duration, audio: result.audio, mimeType: result.mimeType } };
    });
    expect(out.result).toMatchObject({ backend: 'webcodecs', audio: { codec: 'opus' }, mimeType: expect.stringMatching(/opus/) });
    expect(out.partsDuring).toBeGreaterThan(0); // parts went up while the recording was going on
    expect(out.failed).toBeFalsy();
    const { captures } = await env.srv.api('/api/captures');
    const cap = captures.find((c) => c.filename === 'camera-upload.webm');
    expect(cap).toBeDefined();
    const j = judge(await captureBytes(env.srv, cap), 'server-upload.webm');
    console.log(`uploaded while recording: ${out.partsDuring} parts during, ${JSON.stringify(j.codecs)}, ${j.frames} frames, ${j.duration.toFixed(3)} s, sound ${j.sound.toFixed(3)} s, played from the middle ${JSON.stringify(j.playedFromMiddle)}`);
    expectAudioAndVideo(j, 4);
    expect(Math.abs(j.duration - out.result.duration)).toBeLessThanOrEqual(FRAME + 0.005);
    expect(page.errors).toEqual([]);
  } finally {
    await context.close();
  }
});

test('camera + microphone on webcodecs with a journal, the page closed mid-recording: the recovered file and the server\'s copy have sound and picture, decode, seek and play', async () => {
  const context = await env.browser.newContext();
  try {
    const a = await open(context);
    const id = await a.evaluate(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240, frameRate: 30 }, audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
      window.bytesJournaled = 0;
      const rec = await ck.createJournaledRecorder(stream, { backend: 'webcodecs', codec: 'vp8', keyframeInterval: 15, ondata: (bytes, offset) => { window.bytesJournaled = Math.max(window.bytesJournaled, offset + bytes.length); } },
        { metadata: { filename: 'camera-crashed.webm', scene: 'stream-recovery' } });
      window.rec = rec;
      return rec.journal.id;
    });
    await new Promise((r) => setTimeout(r, 3500));
    expect(await a.evaluate(() => window.bytesJournaled)).toBeGreaterThan(0);
    await a.close(); // no stop(): the tab is gone mid-recording

    const b = await open(context);
    const { results, events } = await b.evaluate(() => recover());
    expect(results).toEqual([expect.objectContaining({ recordingId: id, status: 'recovered' })]);
    expect(events[0]).toMatchObject({ kind: 'recovered', metadata: { filename: 'camera-crashed.webm', scene: 'stream-recovery' } });
    const recovered = Buffer.from(results[0].b64, 'base64');
    const j = judge(recovered, 'recovered-camera.webm');
    console.log(`recovered: ${JSON.stringify(j.codecs)}, ${j.frames} frames, ${j.duration.toFixed(3)} s, sound ${j.sound.toFixed(3)} s, played from the middle ${JSON.stringify(j.playedFromMiddle)}`);
    // the journal holds the Clusters (half a second each) that were complete when the page went away
    expectAudioAndVideo(j, 1.5);
    expect(j.duration).toBeLessThanOrEqual(3.5 + 0.5);
    await b.close();

    // the same recording, recovered again in another tab that uploads it: the server holds those bytes
    const c = await open(context);
    // (recover() removed the journal above; record and close once more, then recover with upload)
    const id2 = await c.evaluate(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240, frameRate: 30 }, audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
      const rec = await ck.createJournaledRecorder(stream, { backend: 'webcodecs', codec: 'vp8', keyframeInterval: 15 }, { metadata: { filename: 'camera-crashed-2.webm', scene: 'stream-recovery' } });
      return rec.journal.id;
    });
    await new Promise((r) => setTimeout(r, 3500));
    await c.close();
    const d = await open(context);
    const up = await d.evaluate(() => recover({ upload: true }));
    expect(up.results).toEqual([expect.objectContaining({ recordingId: id2, status: 'uploaded' })]);
    const { captures } = await env.srv.api('/api/captures');
    const cap = captures.find((x) => x.metadata?.journalId === id2);
    expect(cap).toMatchObject({ type: 'video', filename: 'camera-crashed-2.webm', metadata: { recovered: true } });
    const bytes = await captureBytes(env.srv, cap);
    expect(bytes.equals(Buffer.from(up.results[0].b64, 'base64'))).toBe(true);
    const k = judge(bytes, 'recovered-uploaded-camera.webm');
    console.log(`recovered and uploaded: ${JSON.stringify(k.codecs)}, ${k.frames} frames, ${k.duration.toFixed(3)} s, sound ${k.sound.toFixed(3)} s`);
    expectAudioAndVideo(k, 1.5);
    expect(d.errors).toEqual([]);
    await d.close();
  } finally {
    await context.close();
  }
});
