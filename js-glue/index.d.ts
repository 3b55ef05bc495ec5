// Type declarations for capturekit. One section per area; add yours with a small insertion.
/// <reference types="webxr" />

// ---- core ---------------------------------------------------------------------------------------

/** An RGBA8 image; ImageData is one. `stride` is bytes per row (default width * 4). */
export interface RGBAImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  stride?: number;
}

/** What pixel operations return. */
export interface ImageResult {
  data: Uint8ClampedArray;
  width: number;
  height: number;
  stride: number;
}

export interface InitOptions {
  /** 'auto' (default) picks the SIMD build where the runtime supports it. */
  simd?: boolean | 'auto';
  /** The wasm to use instead of the packaged file: a Module, bytes, a Response, a URL or a string. */
  wasm?: WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response | URL | string;
  factory?: (...args: any[]) => Promise<any>;
  /** The upload module's wasm and factory, handed over the same way (init() loads both modules). */
  upload?: UploadModuleOptions;
}

/** Where the upload module's wasm comes from (one build: no `simd`). */
export interface UploadModuleOptions {
  wasm?: WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response | URL | string;
  factory?: (...args: any[]) => Promise<any>;
}

/**
 * Loads the image and the upload modules (what the synchronous pixel, codec and queue functions need).
 * Each module also loads itself when first used: a capture loads the image module, createUploader the
 * upload module, so a page that only uploads downloads only that one.
 */
export function init(options?: InitOptions): Promise<unknown>;
/** Loads the image module: pixels and image codecs (baseline or SIMD build). */
export function initImage(options?: Omit<InitOptions, 'upload'>): Promise<object>;
/** Loads the upload module: SHA-256, ChunkBuffer, the upload queue (createUploader calls it). */
export function initUpload(options?: UploadModuleOptions): Promise<object>;
export function isImageLoaded(): boolean;
export function isUploadLoaded(): boolean;
/** True when the image module's SIMD build is loaded (throws while the image module is not loaded). */
export function isSimd(): boolean;
export function simdSupported(): boolean;
export const MAX_SIDE: number;
export const MAX_PIXELS: number;
export function flipVertical(image: RGBAImage): ImageResult;

// ---- pixels: geometry (crop, resize, thumbnail, watermark composite, unpremultiply) ---------------

export interface CropRect { x: number; y: number; width: number; height: number }
export interface ImageSize { width: number; height: number }
/** Copies a rectangle (integers, inside the image) into a new packed image. */
export function crop(image: RGBAImage, rect: CropRect): ImageResult;
export interface ResizeOptions {
  width: number;
  height: number;
  /** 'exact' (default) or 'contain': fit within width x height keeping the aspect ratio. */
  fit?: 'exact' | 'contain';
  /** 'auto' (default): area on an axis that shrinks, bilinear on one that grows. */
  method?: 'auto' | 'area' | 'bilinear';
}
export function resize(image: RGBAImage, options: ResizeOptions): ImageResult;
/** The size resize() will produce. */
export function resizedSize(image: ImageSize, options: ResizeOptions): ImageSize;
/** Largest size with the source's aspect ratio inside the box (rounded to nearest, at least 1). */
export function fitWithin(width: number, height: number, boxWidth: number, boxHeight: number): ImageSize;
/** Fits into the box keeping the aspect ratio (area filter), never enlarging. */
export function thumbnail(image: RGBAImage, box: ImageSize): ImageResult;
export interface CompositeOptions {
  /** Default 'bottom-right'. */
  position?: WatermarkPosition;
  /** Pixels from the anchored edges (integer >= 0, default 0; ignored by 'center'). */
  margin?: number;
  /** 0..1 (default 1); 0 leaves the image unchanged. */
  opacity?: number;
}
/** Source-over blend of a straight-alpha RGBA mark onto the image (clipped to it). */
export function composite(image: RGBAImage, mark: RGBAImage, options?: CompositeOptions): ImageResult;
/** Premultiplied (WebGL readPixels) to straight alpha; alpha 0 gives 0,0,0,0. */
export function unpremultiplyAlpha(image: RGBAImage): ImageResult;
export interface TextMarkOptions {
  text: string;
  /** CSS font, default '24px sans-serif'. */
  font?: string;
  /** CSS colour, default translucent white. */
  color?: string;
  shadow?: boolean | { color?: string; blur?: number; offsetX?: number; offsetY?: number };
}
/** Browser only (OffscreenCanvas or document): renders text into an RGBA mark. Throws an Error in Node. */
export function renderTextMark(options: TextMarkOptions): { data: Uint8ClampedArray; width: number; height: number };
/** Browser only: renderTextMark() then composite(). */
export function textWatermark(image: RGBAImage, options: TextMarkOptions & CompositeOptions): ImageResult;

// ---- pixels: colour (adjust, blur, RGBA -> I420) ----------------------------------------------------

/** Each in [-1, 1], default 0 (all 0: the image unchanged). */
export interface AdjustOptions { brightness?: number; contrast?: number; saturation?: number }
/** Brightness, contrast and saturation (alpha untouched); the input is not modified. */
export function adjust(image: RGBAImage, options?: AdjustOptions): ImageResult;
/** Gaussian blur (sigma = radius / 2) of every channel; radius is an integer 0..64 (0: unchanged). */
export function blur(image: RGBAImage, options: { radius: number }): ImageResult;
/** I420 planes (BT.601 limited range; alpha ignored): Y width x height, U and V ceil(width/2) x ceil(height/2). */
export function toI420(image: RGBAImage): { y: Uint8Array; u: Uint8Array; v: Uint8Array; width: number; height: number };

// ---- image: JPEG/PNG encode and decode (js-glue/image/) ------------------------------------------

export type PngStrategy = 'default' | 'filtered' | 'huffman-only' | 'rle' | 'fixed' | 'auto';
export const PNG_STRATEGIES: readonly PngStrategy[];
export interface JpegOptions {
  /** Integer 1..100, default 90 (4:2:0 chroma up to 90, 4:4:4 above). */
  quality?: number;
}
export interface PngOptions {
  /** zlib level, integer 0..9, default 6. */
  level?: number;
  /** Default 'auto': Z_RLE on noisy (photo) rows, zlib's LZ77 on flat (UI) rows, per band of 32 rows. */
  strategy?: PngStrategy;
}
export interface EncodeOptions extends PngOptions {
  /** Default 'image/png' (as canvas.toBlob). */
  format?: 'image/jpeg' | 'image/png';
  /** 0..1 like canvas.toBlob, maps to JPEG quality 1..100; default 0.92. Ignored for PNG. */
  quality?: number;
}
export interface DecodeOptions {
  /** Limits checked on the header before decoding; each may only be lowered. Defaults 16384, 16384, 2^28, 2^28 bytes. */
  maxWidth?: number;
  maxHeight?: number;
  maxPixels?: number;
  maxBytes?: number;
}
/** Baseline JPEG (alpha ignored). */
export function encodeJpeg(image: RGBAImage, options?: JpegOptions): Uint8Array;
/** Lossless 8-bit PNG (RGB when fully opaque, else RGBA). */
export function encodePng(image: RGBAImage, options?: PngOptions): Uint8Array;
/** canvas.toBlob-style: a format and a 0..1 quality. */
export function encode(image: RGBAImage, options?: EncodeOptions): Uint8Array;
/** PNG or JPEG file to RGBA; throws RangeError (limits), TypeError (argument types), Error (corrupt or truncated). */
export function decodeImage(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: DecodeOptions): ImageResult;
/** The format and size from the header after decodeImage's structure checks and limits, without decoding pixels. */
export function probeImage(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: DecodeOptions): { format: 'image/png' | 'image/jpeg'; width: number; height: number };
/** The bytes as a Blob; the type is sniffed from the signature when not given. */
export function toBlob(bytes: Uint8Array | ArrayBuffer, type?: string): Blob;

// ---- capture (screenshots of canvases and WebXR sessions) --------------------------------------

export type CaptureFormat = 'image/jpeg' | 'image/png';

/** A box: a number is the longest side (both width and height). */
export type CaptureBox = number | { width: number; height: number };

/** Anything an image watermark or composite filter can take. */
export type FilterImage = RGBAImage | ImageData | ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | Blob | Uint8Array | ArrayBuffer;

export type WatermarkPosition = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' | 'center';

/** Filters are data (they cross to the Worker); each names a capturekit operation. */
export type CaptureFilter =
  | { op: 'crop'; x: number; y: number; width: number; height: number }
  | { op: 'resize'; width: number; height: number; fit?: 'exact' | 'contain'; method?: 'auto' | 'bilinear' | 'area' }
  | { op: 'thumbnail'; width: number; height: number }
  | { op: 'flipVertical' }
  | { op: 'unpremultiplyAlpha' }
  | { op: 'adjust'; brightness?: number; contrast?: number; saturation?: number }
  | { op: 'blur'; radius: number }
  | { op: 'composite'; image: FilterImage; position?: WatermarkPosition; margin?: number; opacity?: number }
  /** An image watermark; `width` (pixels) or `scale` (of the capture's width) sizes the mark first. */
  | { op: 'watermark'; image: FilterImage; width?: number; scale?: number; position?: WatermarkPosition; margin?: number; opacity?: number }
  | { op: 'text'; text: string; font?: string; color?: string; shadow?: boolean | { color?: string; blur?: number; offsetX?: number; offsetY?: number }; position?: WatermarkPosition; margin?: number; opacity?: number };

export interface CaptureCommonOptions {
  /** Default 'image/jpeg'. */
  format?: CaptureFormat;
  /** 0..1, default 0.92 (JPEG only). */
  quality?: number;
  /** Downscale (never up) to fit this box. */
  maxSize?: CaptureBox;
  /** Applied in order, after flip / un-premultiply and before maxSize. */
  filters?: CaptureFilter[];
  /** Also make a thumbnail fitting this box (default JPEG, quality 0.8). */
  thumbnail?: CaptureBox | { width: number; height: number; format?: CaptureFormat; quality?: number } | false | null;
  /** Run flip, filters and encoding in a Web Worker (default true); false runs them on the main thread. */
  worker?: boolean;
  /** Milliseconds to wait for the next frame (default 5000). */
  timeout?: number;
  /** Extra JSON fields for metadata.extra (a session id, scene info, ...). */
  metadata?: Record<string, unknown>;
}

export interface CaptureCanvasOptions extends CaptureCommonOptions {
  /**
   * High-resolution capture: the canvas is resized by this factor (0 < scale <= 8) for one frame and
   * restored afterwards. A 2D canvas needs `render`.
   */
  scale?: number;
  /** Draws the scene; when given, the glue calls it right before reading (no frame wait). */
  render?: () => void;
  /** Resizes the drawing buffer (default: sets canvas.width/height). Called with the scaled and then the original size. */
  resize?: (width: number, height: number) => void;
  /** The canvas's rendering context, when known (otherwise it is found with getContext). */
  context?: RenderingContext | OffscreenRenderingContext;
  /** Allow a canvas that is not in the document. */
  allowDetached?: boolean;
}

export interface CaptureXROptions extends CaptureCommonOptions {
  /** The WebGL context of the session's layer (required unless the layer exposes it). */
  gl?: WebGLRenderingContext | WebGL2RenderingContext;
  /** The reference space you render with: the pose in the metadata is relative to it. */
  referenceSpace: XRReferenceSpace;
  /** Which view: an index, 'left' / 'right' (by eye) or 'both' (side by side). Default 0. */
  view?: number | 'left' | 'right' | 'both';
  /** XRSession does not tell its mode; given here, or inferred from environmentBlendMode. */
  sessionMode?: 'immersive-vr' | 'immersive-ar' | 'inline';
  /** For sessions that use an XRProjectionLayer (default: a binding made for the session). */
  binding?: XRWebGLBinding;
  /** XR frames have the size the compositor chose: must be 1. */
  scale?: 1;
}

export interface CapturePose {
  position: { x: number; y: number; z: number };
  orientation: { x: number; y: number; z: number; w: number };
}

export interface CaptureMetadata {
  /** Milliseconds since the epoch. */
  timestamp: number;
  capturedAt: string;
  format: CaptureFormat;
  quality: number | null;
  byteSize: number;
  width: number;
  height: number;
  dimensions: { width: number; height: number };
  source: {
    kind: '2d' | 'webgl' | 'webgl2' | 'xr';
    scale: number;
    [key: string]: unknown;
  };
  device: {
    userAgent: string;
    platform: string;
    language: string;
    hardwareConcurrency: number | null;
    devicePixelRatio: number;
    screen: { width: number; height: number } | null;
    xr: { available: boolean; immersiveVr: boolean; immersiveAr: boolean };
    sessionMode: string | null;
    enabledFeatures: string[] | null;
    environmentBlendMode?: string | null;
  };
  xr?: {
    sessionMode: string | null;
    view: number | string;
    framebuffer: 'layer' | 'default' | 'projection-layer';
    predictedDisplayTime: number | null;
    pose: CapturePose & { emulatedPosition: boolean };
    views: Array<{
      index: number;
      eye: XREye;
      projectionMatrix: number[];
      transform: CapturePose;
      viewport: { x: number; y: number; width: number; height: number };
    }>;
  };
  thumbnail?: { width: number; height: number; format: CaptureFormat; byteSize: number };
  extra?: Record<string, unknown>;
}

export interface CaptureResult {
  blob: Blob;
  bytes: Uint8Array;
  width: number;
  height: number;
  format: CaptureFormat;
  metadata: CaptureMetadata;
  thumbnail: { blob: Blob; bytes: Uint8Array; width: number; height: number; format: CaptureFormat } | null;
  /**
   * Where the time went: main-thread milliseconds (the sum of the capture's synchronous slices), the
   * same split by slice (setup, resize, render, read, readback, post, process, finish), and total.
   */
  timing: { worker: boolean; mainThreadMs: number; totalMs: number; mainThread: Record<string, number> };
}

/** A screenshot of a 2D or WebGL canvas (works without preserveDrawingBuffer). */
export function captureCanvas(canvas: HTMLCanvasElement | OffscreenCanvas, options?: CaptureCanvasOptions): Promise<CaptureResult>;
/**
 * A screenshot of the current XR frame. Call inside the XRSession requestAnimationFrame callback,
 * after drawing: argument and state errors throw synchronously, the result comes as a promise.
 */
export function captureXRFrame(frame: XRFrame, options: CaptureXROptions): Promise<CaptureResult>;
/** Captures the session's next frame (for buttons and controller events). */
export function captureXRSession(session: XRSession, options: CaptureXROptions): Promise<CaptureResult>;
/** Starts watching the session's 'end' event, so a later capture can say it has ended. */
export function trackXRSession(session: XRSession): void;
/** "screenshot_YYYYMMDD_HHMMSS.jpg" from the capture's timestamp (local time). */
export function captureFilename(result: CaptureResult | Blob, options?: { prefix?: string }): string;
export function createDownloadLink(result: CaptureResult | Blob, options?: { prefix?: string; filename?: string; text?: string }): { link: HTMLAnchorElement; filename: string; revoke(): void };
/** Saves through a download; returns the file name. */
export function downloadCapture(result: CaptureResult | Blob, options?: { prefix?: string; filename?: string }): string;
export function getDeviceInfo(options?: { session?: XRSession | null; sessionMode?: string | null }): Promise<CaptureMetadata['device']>;
/** Stops the shared capture Worker (it restarts on the next capture). */
export function terminateCaptureWorker(): void;

// ---- upload: ChunkBuffer and the upload queue's state machine (js-glue/upload/) ----
export const DEFAULT_MIN_PART_SIZE: number;
export interface UploadPart { index: number; bytes: Uint8Array; sha256: string; last: boolean }
/** MediaRecorder chunks in, numbered parts out: every part but the last has exactly minPartSize bytes. */
export class ChunkBuffer {
  /**
   * holdFirstPart (seekable streaming): part 0 is kept back, patch() writes into it, flush() returns it last.
   * store: the object store's part rules: 's3' and 'r2' (default minPartSize 5 MiB; every part but the last
   * of one size, which is also R2's rule), 'gcs' (default 8 MiB, minPartSize a multiple of 256 KiB);
   * partSizeMultiple sets that multiple directly. A minPartSize that breaks the rule is a RangeError.
   */
  constructor(options?: { minPartSize?: number; holdFirstPart?: boolean; store?: 's3' | 'r2' | 'gcs'; partSizeMultiple?: number });
  append(chunk: Uint8Array | ArrayBufferView | ArrayBuffer): UploadPart[];
  /** holdFirstPart only: overwrites bytes inside the held part 0 (before flush). */
  patch(offset: number, bytes: Uint8Array | ArrayBufferView | ArrayBuffer): void;
  /** Bytes of part 0 held back (holdFirstPart). */
  readonly heldBytes: number;
  /** The last part ([] when nothing was appended); append/flush throw afterwards. */
  flush(): UploadPart[];
  readonly totalBytes: number;
  readonly bufferedBytes: number;
  readonly partsEmitted: number;
  /** The bytes the emitted parts hold (a held part 0 is not among them before flush). */
  readonly emittedRange: { begin: number; end: number };
  readonly minPartSize: number;
  readonly flushed: boolean;
  readonly disposed: boolean;
  dispose(): void;
}
/** SHA-256 as 64 lowercase hex characters. */
export function sha256Hex(data: Uint8Array | ArrayBufferView | ArrayBuffer): string;

export type FailureKind = 'network' | 'timeout' | 'server5xx' | 'rateLimited' | 'client4xx' | 'unauthorized' |
  'sessionExpired' | 'malformed' | 'checksumMismatch' | 'offline' | 'aborted';
export const FAILURE_KINDS: readonly FailureKind[];
export interface QueueOptions {
  maxRetries?: number; backoffBaseMs?: number; backoffFactor?: number; backoffMaxMs?: number; jitter?: number; seed?: number;
  /** Completed items kept in the queue (default Infinity); when another completes, the oldest leave. */
  keepCompleted?: number;
}
/** The upload queue's limits, as the C++ enforces them (after init()). */
export interface UploadLimits {
  maxQueueItems: number; maxPartsPerItem: number; maxItemIdBytes: number; maxMetadataBytes: number; maxSessionIdBytes: number;
  maxResultBytes: number; maxErrorMessageBytes: number; maxQueuePartBytes: number; maxScreenshotBytes: number; maxPartSize: number;
}
export function uploadLimits(): Readonly<UploadLimits>;
export const DEFAULT_QUEUE_OPTIONS: Readonly<Required<QueueOptions>>;
export type QueueAction =
  | { type: 'none'; reason: 'idle' | 'offline' | 'waitingForData' | 'authRequired' }
  | { type: 'wait'; until: number }
  | { type: 'busy'; id: number; busyWith: string; itemId: string }
  | { type: 'refreshToken'; id: number }
  | { type: 'init'; id: number; itemId: string; metadata: string }
  | { type: 'uploadScreenshot'; id: number; itemId: string; size: number; metadata: string }
  | { type: 'uploadPart'; id: number; itemId: string; sessionId: string; partIndex: number; size: number; sha256: string }
  | { type: 'finalize'; id: number; itemId: string; sessionId: string; partCount: number; size: number; metadata: string };
export type QueueItemState = 'pending' | 'initializing' | 'uploading' | 'finalizing' | 'completed' | 'failed';
export interface QueueItemInfo {
  id: string; kind: 'screenshot' | 'video'; state: QueueItemState; metadata: string; size: number; uploadedBytes: number;
  partCount: number; confirmedParts: number; recordingFinished: boolean; sessionId: string; failures: number;
  /** Videos: part 0 comes (and uploads) last (seekable streaming). */
  firstPartLast?: boolean;
  retryAt: number; lastError: FailureKind | ''; lastErrorMessage: string; result: string;
  parts?: Array<{ index: number; size: number; sha256: string; confirmed: boolean }>;
}
export interface QueueSummary {
  total: number; pending: number; initializing: number; uploading: number; finalizing: number; completed: number;
  failed: number; bytesTotal: number; bytesUploaded: number; percentage: number; partsTotal: number;
  partsConfirmed: number; isOnline: boolean; hasSession: boolean; currentItemId: string;
  tokenRefreshNeeded: boolean; authRequired: boolean; busy: boolean; nextRetryAt: number;
}
/** The upload decisions as a pure state machine: feed it events, ask nextAction(), persist serialize(). */
export class QueueCore {
  constructor(options?: QueueOptions);
  static restore(json: string, options?: QueueOptions): QueueCore;
  /** A stored state that may be corrupt: keeps every item that still reads; error is '' when all of it read. */
  static restoreReadable(json: string, options?: QueueOptions): { queue: QueueCore; error: string; itemsKept: number; dropped: string[] };
  enqueue(item: { id: string; kind: 'screenshot'; size: number; metadata?: string | object } | { id: string; kind: 'video'; metadata?: string | object; firstPartLast?: boolean }): void;
  addPart(itemId: string, part: { index: number; sha256: string; bytes?: Uint8Array; size?: number }): void;
  addPart(itemId: string, index: number, size: number, sha256: string): void;
  markRecordingFinished(itemId: string): void;
  /** 'removed' when the recording holds no byte (it left the queue). */
  finishRecording(itemId: string): 'finished' | 'removed';
  serverHasParts(itemId: string, indices: number[]): void;
  /** A server's part list: indices the item lacks and repeats are ignored (returns how many). */
  acceptServerPartList(itemId: string, indices: number[]): number;
  remove(itemId: string): void;
  retryFailed(itemId?: string): number;
  setOnline(online: boolean): void;
  tokenUpdated(): void;
  nextAction(now?: number): QueueAction;
  peekAction(now?: number): QueueAction;
  succeeded(action: { id: number } | number, result?: string): void;
  failed(action: { id: number } | number, kind: FailureKind, details?: { now?: number; retryAfterMs?: number; message?: string }): void;
  summary(): QueueSummary;
  item(itemId: string): QueueItemInfo | undefined;
  items(): QueueItemInfo[];
  serialize(): string;
  restore(json: string): void;
  readonly disposed: boolean;
  dispose(): void;
}

// ---- upload: the driver (js-glue/upload/uploader.js), stores and transports (FailureKind: above) ----
export class UploadError extends Error {
  constructor(kind: FailureKind, message: string, details?: { status?: number; retryAfterMs?: number; cause?: unknown; serverParts?: number[] });
  readonly kind: FailureKind; readonly status: number; readonly retryAfterMs: number; readonly serverParts?: number[];
}
/** One adapter interface for every protocol; each call throws UploadError with the failure's kind. */
export interface UploadTransport {
  name: string;
  supports: { video: boolean; screenshot: boolean };
  /** appendOnly: bytes are appended in order (tus); partsOutOfOrder: part 0 may be sent last (default true). */
  capabilities?: { appendOnly: boolean; partsOutOfOrder: boolean };
  init(ctx: object): Promise<{ sessionId: string; parts?: number[] }>;
  uploadPart(ctx: object): Promise<object>;
  listParts(ctx: object): Promise<number[]>;
  finalize(ctx: object): Promise<{ result: string }>;
  uploadScreenshot(ctx: object): Promise<{ result: string }>;
  describe(): object;
}
type Fetch = typeof fetch;
export function createRestTransport(options: { baseUrl: string; screenshotPath?: string; lookupUrl?: string | false; fetch?: Fetch; engine?: 'auto' | 'fetch' | 'xhr' }): UploadTransport;
export function createTusTransport(options: { endpoint: string; fetch?: Fetch; engine?: 'auto' | 'fetch' | 'xhr' }): UploadTransport;
export function createMultipartTransport(options: { url: string; fileField?: string; metadataField?: string | null; fields?: Record<string, string>;
  urlOf?: (json: any) => string | null; fetch?: Fetch; engine?: 'auto' | 'fetch' | 'xhr' }): UploadTransport;
/** S3 multipart straight to a bucket, with presigned URLs from the app's backend (the reference server's /s3/multipart). */
export function createS3Transport(options: { endpoint: string; fetch?: Fetch; engine?: 'auto' | 'fetch' | 'xhr'; urlMarginMs?: number }): UploadTransport & { abort(ctx: { sessionId: string }): Promise<void>; stats(): Record<string, number> };
export function combineTransports(t: { video: UploadTransport; screenshot: UploadTransport }): UploadTransport;
export function transportFromDescription(description: object, extra?: object): UploadTransport;

export type UploadStoreName = 'meta' | 'items' | 'parts' | 'screenshots' | 'tail' | 'inbox';
export type UploadStoreOp = { type: 'put'; store: UploadStoreName; key: any; value: any } | { type: 'delete'; store: UploadStoreName; key: any } |
  { type: 'deletePrefix'; store: UploadStoreName; prefix: string } | { type: 'add'; store: 'inbox'; value: any };
export interface UploadStore {
  open(): Promise<void>;
  get(store: UploadStoreName, key: any): Promise<any>;
  getAll(store: UploadStoreName, options?: { prefix?: string }): Promise<{ key: any; value: any }[]>;
  batch(ops: UploadStoreOp[]): Promise<number[]>;
  usage(): Promise<{ bytes: number; quota?: number }>;
  close(): void;
}
export function createMemoryStore(options?: { quotaBytes?: number }): UploadStore & { quotaBytes: number; bytes: number };
/** The IndexedDB store (on the idb package), loaded on demand. */
export function openIdbStore(options?: { name?: string }): Promise<UploadStore>;
export class MemoryLocks { request(name: string, options: object, callback: (lock: object | null) => any): Promise<any>; query(): Promise<object> }
export const RETAIN_MODES: readonly ['confirmed', 'finalized', 'keep'];

export interface UploadProgress {
  state: 'idle' | 'uploading' | 'retrying' | 'offline' | 'waitingForData' | 'authRequired';
  uploaded: number; pending: number; failed: number; total: number; completed: number; uploading: number; percentage: number;
  bytes: { uploaded: number; total: number }; bytesUploaded: number; bytesTotal: number; parts: { uploaded: number; total: number };
  isOnline: boolean; hasSession: boolean; currentItemId: string; nextRetryAt: number; authRequired: boolean; isLeader: boolean;
  storage: { persisted: boolean | null; quotaExceeded: boolean; lastError: string };
}
export interface UploaderOptions {
  transport: UploadTransport; store?: UploadStore; name?: string; queue?: QueueOptions;
  retain?: 'confirmed' | 'finalized' | 'keep'; keepCompleted?: number; minPartSize?: number;
  /** The part rules of the store the parts end up in (ChunkBuffer's store): 's3' (default), 'r2', 'gcs' (8 MiB, multiples of 256 KiB). */
  partRules?: 's3' | 'r2' | 'gcs';
  timeoutMs?: number | ((o: { size: number }) => number); token?: string; getToken?: () => string | Promise<string>;
  refreshToken?: () => Promise<string>; locks?: object | null; channel?: ((name: string) => BroadcastChannel) | null;
  isOnline?: () => boolean; onlineEvents?: EventTarget | null; now?: () => number; persistStorage?: boolean;
  backgroundSync?: boolean | { registration?: ServiceWorkerRegistration; persistToken?: boolean };
  wasm?: object; pollMs?: number; orphanCheckMs?: number;
}
export class RecordingUpload extends EventTarget {
  private constructor();
  readonly itemId: string; readonly bytesAppended: number; readonly partsStored: number; readonly unsavedBytes: number;
  readonly state: 'new' | 'recording' | 'stopping' | 'stopped' | 'aborted' | 'detached';
  /** startRecording's seekable option. */
  readonly seekable: boolean;
  readonly stopped: Promise<{ itemId: string; bytes: number; parts: number }>;
  readonly ondata: (bytes: Uint8Array, offset: number) => Promise<void>;
  append(chunk: Blob | Uint8Array | ArrayBufferView | ArrayBuffer): Promise<void>;
  write(bytes: Uint8Array, offset?: number): Promise<void>;
  retrySave(): Promise<boolean>;
  stop(final?: { duration?: number; metadata?: object }): Promise<{ itemId: string; bytes: number; parts: number }>;
  abort(): Promise<void>;
  attachMediaRecorder(recorder: MediaRecorder, options?: { final?: object }): () => void;
}
/** Events: progress, itemqueued, partuploaded, uploadprogress, itemcompleted, itemfailed, uploaderror, itemremoved, retry,
 *  recordingrecovered, quotaexceeded, storagerecovered, authrequired, rolechange, online, offline, error (detail on event.detail). */
export class Uploader extends EventTarget {
  constructor(options: UploaderOptions);
  readonly ready: Promise<Uploader>;
  readonly role: 'starting' | 'leader' | 'follower' | 'closed';
  readonly name: string;
  readonly store: UploadStore;
  getProgress(): UploadProgress;
  items(): object[];
  whenIdle(options?: { signal?: AbortSignal }): Promise<UploadProgress>;
  enqueueScreenshot(capture: { bytes?: Uint8Array; blob?: Blob; format?: string; metadata?: object } | Uint8Array | ArrayBuffer | Blob,
    options?: { id?: string; metadata?: object; filename?: string; mimeType?: string }): Promise<string>;
  /** seekable: header patches (VideoWriter ondata) go into part 0, uploaded last (REST, S3); with tus the server makes the finished file seekable. */
  startRecording(metadata?: object, options?: { id?: string; minPartSize?: number; mimeType?: string; seekable?: boolean }): Promise<RecordingUpload>;
  retryFailed(itemId?: string): Promise<void>;
  remove(itemId: string): Promise<void>;
  setToken(token: string): Promise<void>;
  getLocalCopy(itemId: string): Promise<Blob | null>;
  deleteLocalCopy(itemId: string): Promise<void>;
  storageEstimate(): Promise<{ bytes: number; quota?: number; persisted: boolean | null; quotaExceeded: boolean }>;
  runUntilIdle(options?: { timeoutMs?: number }): Promise<boolean>;
  close(): Promise<void>;
}
export function createUploader(options: UploaderOptions): Uploader;

// ---- video: makeSeekable (js-glue/video/repair.js) ----
/** MP4 (docType 'mp4'): clusters = fragments kept, cues = the video's sync samples, frames = samples (every track). */
export interface RepairInfo {
  docType: 'webm' | 'matroska' | 'mp4'; mimeType: string; codecs: string[]; duration: number; durationMs: number;
  inputSize: number; outputSize: number; clusters: number; cues: number; frames: number;
  truncated: boolean; droppedBytes: number; hadCues: boolean; hadDuration: boolean;
}
export type RepairInput = Blob | ArrayBuffer | ArrayBufferView | Array<Blob | ArrayBuffer | ArrayBufferView> |
  string | URL | { fd: number; read: Function; stat: Function } | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
export interface RepairOptions {
  allowTruncated?: boolean; chunkSize?: number; type?: string; module?: object;
  oninfo?: (info: RepairInfo) => void | Promise<void>;
  onprogress?: (p: { pass: 1 | 2; bytes: number; total: number | null }) => void;
}
export function makeSeekable(input: RepairInput, options: RepairOptions & ({ output: string | URL | WritableStream<Uint8Array> | object } | { ondata: (bytes: Uint8Array) => void | Promise<void> })): Promise<RepairInfo>;
export function makeSeekable(input: RepairInput, options?: RepairOptions): Promise<Blob>;
export function makeSeekableChunks(input: RepairInput, options?: RepairOptions): AsyncGenerator<Uint8Array, RepairInfo, void>;

// ---- video: remux (js-glue/video/remux.js): WebM <-> MP4 without re-encoding ----
export interface RemuxInfo {
  inputType: 'webm' | 'mp4'; mimeType: string; videoCodec: string; hasAudio: boolean; truncated: boolean;
  frames: number; audioPackets: number; duration: number; outputSize: number;
}
export interface RemuxOptions {
  container: 'mp4' | 'webm'; layout?: 'progressive' | 'fragmented'; allowTruncated?: boolean;
  chunkSize?: number; module?: object;
}
export type RemuxInput = Blob | ArrayBuffer | ArrayBufferView | Array<Blob | ArrayBuffer | ArrayBufferView> | string | URL;
export function remux(input: RemuxInput, options: RemuxOptions & { ondata: (bytes: Uint8Array, offset: number) => void | Promise<void> }): Promise<RemuxInfo>;
export function remux(input: RemuxInput, options: RemuxOptions): Promise<Blob>;

// ---- video: VideoWriter (js-glue/video/video-writer.js; the video module loads on first use) ----
export type VideoCodec = 'vp8' | 'vp9';
export interface VideoWriterOptions {
  /** 'h264' (MP4 only, even sizes, no speed): OpenH264 in the capturekit-h264 module, loaded with it */
  codec?: VideoCodec | 'h264'; width: number; height: number; fps?: number; bitrate?: number;
  keyframeInterval?: number; speed?: number; rateControl?: 'vbr' | 'cbr'; flipY?: boolean;
  /** Streamed output: apply each call at `offset` (offset < bytes so far = overwrite; header patches come at finish). */
  ondata?: (bytes: Uint8Array, offset: number) => void | Promise<void>;
  module?: { simd?: boolean | 'auto'; wasm?: unknown; factory?: Function } | object;
  /** codec 'h264': options for loading the H.264 module, or a module instance */
  h264Module?: { simd?: boolean | 'auto'; wasm?: unknown; factory?: Function } | object;
  /** An Opus track from PCM given to addAudio() (libopus in the audio module, loaded with it). */
  audio?: OpusEncoderOptions;
  /** 'mp4': VP9 + Opus in MP4 (VP8 is a TypeError; no per-frame metadata). Default 'webm'. */
  container?: 'webm' | 'mp4';
  /** MP4 only: default 'fragmented' with ondata, 'progressive' (moov first) without. */
  layout?: 'fragmented' | 'progressive';
}
export interface VideoResult {
  /** the video codec; mimeType says "video/webm;codecs=vp8,opus" when there is audio */
  codec: VideoCodec | 'h264'; mimeType: string; width: number; height: number; frames: number; keyframes: number;
  /** seconds (the later end of video and audio) */ duration: number; averageFps: number; /** file size */ bytes: number;
  /** the file, when there is no ondata */ data?: Uint8Array; blob?: Blob;
  /** with an audio track: its packets and its end in the file (seconds) */
  audio?: { codec: 'opus'; sampleRate: number; channels: 1 | 2; packets: number; duration: number };
  /** MP4 output: the container and its layout */
  container?: 'mp4'; layout?: 'fragmented' | 'progressive';
}
/** PCM for addAudio: interleaved (Float32 nominally -1..1, or Int16), or one Float32Array per channel. */
export type AudioPcm = Float32Array | Int16Array | Float32Array[];
export const VIDEO_LIMITS: {
  readonly minSide: number; readonly maxSide: number; readonly minFps: number; readonly maxFps: number;
  readonly minBitrate: number; readonly maxBitrate: number; readonly maxKeyframeInterval: number;
  readonly maxMetadataBytes: number; readonly speed: { readonly vp8: readonly [number, number]; readonly vp9: readonly [number, number] };
};
export class VideoWriter {
  private constructor();
  static create(options: VideoWriterOptions): Promise<VideoWriter>;
  readonly codec: VideoCodec | 'h264'; readonly width: number; readonly height: number; readonly fps: number;
  readonly keyframeInterval: number; readonly speed: number; readonly frames: number;
  readonly bytes: number; readonly pendingBytes: number;
  addFrame(image: { data: Uint8Array | Uint8ClampedArray | ArrayBuffer; width: number; height: number; stride?: number },
    options?: { timestampUs?: number; metadata?: object | string | Uint8Array }): void;
  /** Encodes PCM into the Opus track. timestampUs on the frames' clock (the first timestamp given, a frame's or
   *  the audio's, is zero); without it the samples follow the previous ones. Gaps up to 60 s are filled with silence. */
  addAudio(pcm: AudioPcm, options?: { timestampUs?: number }): void;
  finish(): Promise<VideoResult>;
  abort(): void;
}
/** Muxes VP8/VP9 frames encoded elsewhere (say WebCodecs' VideoEncoder) into WebM with libwebm (js-glue/video/webm-muxer.js). */
export interface WebmMuxerOptions {
  codec?: VideoCodec; width: number; height: number; fps?: number;
  /** Streamed output, as for VideoWriter: apply each call at `offset` (header patches come at finish). */
  ondata?: (bytes: Uint8Array, offset: number) => void | Promise<void>;
  module?: { simd?: boolean | 'auto'; wasm?: unknown; factory?: Function } | object;
  /** An Opus track: codecPrivate = an OpusHead (AudioEncoder's decoderConfig.description), else one is built from
   *  channels, sampleRate (the encoder's input rate) and preSkip (samples at 48 kHz, default 312). */
  audio?: { codec: 'opus'; sampleRate?: 8000 | 12000 | 16000 | 24000 | 48000; channels: 1 | 2; codecPrivate?: Uint8Array | ArrayBuffer; preSkip?: number };
}
export class WebmMuxer {
  private constructor();
  static create(options: WebmMuxerOptions): Promise<WebmMuxer>;
  readonly codec: VideoCodec; readonly width: number; readonly height: number; readonly fps: number;
  readonly frames: number; readonly bytes: number; readonly pendingBytes: number;
  /** timestampUs from any clock (the first frame's is zero, never going back); metadata stored as BlockAddID 2 JSON. */
  addFrame(data: Uint8Array | ArrayBuffer, options?: { keyframe?: boolean; timestampUs?: number; metadata?: object | string | Uint8Array }): void;
  readonly audioPackets: number;
  /** One Opus packet; timestampUs on the frames' clock (the first timestamp of either track is zero), increasing.
   *  Audio and video may come in any relative order; they are written in time order (at most 10 s apart). */
  addAudio(data: Uint8Array | ArrayBuffer, options: { timestampUs: number }): void;
  /** duration in seconds; without it the last frame's time plus the average frame spacing (and at least the audio's end). */
  finish(options?: { duration?: number }): Promise<VideoResult>;
  abort(): void;
}
/** Muxes H.264 / VP9 / AV1 (+ Opus / AAC) encoded elsewhere into MP4 (js-glue/video/mp4-muxer.js, wasm/video/mp4_muxer.h). */
export interface Mp4MuxerOptions {
  /** 'avc1.PPCCLL' | 'h264' | 'vp09.PP.LL.DD' | 'vp9' | 'av01.P.LLT.DD' | 'av1' (default 'vp9'); VP8 is a TypeError */
  codec?: string; width: number; height: number; fps?: number;
  /** avcC / av1C (VideoEncoder's decoderConfig.description); with an avcC, H.264 frames are length-prefixed */
  description?: Uint8Array | ArrayBuffer;
  /** default 'fragmented' with ondata (moof + mdat per key frame, mfra at the end), 'progressive' without (moov first) */
  layout?: 'fragmented' | 'progressive';
  ondata?: (bytes: Uint8Array, offset: number) => void | Promise<void>;
  module?: { simd?: boolean | 'auto'; wasm?: unknown; factory?: Function } | object;
  /** description: an OpusHead (AudioEncoder's) or an AudioSpecificConfig; Opus without one gets a built OpusHead (preSkip, default 312) */
  audio?: { codec?: 'opus' | 'aac' | 'mp4a.40.2'; sampleRate?: number; channels: number; description?: Uint8Array | ArrayBuffer; preSkip?: number };
}
export interface Mp4Result extends Omit<VideoResult, 'codec' | 'audio'> {
  /** the video codec as written (e.g. 'avc1.64000d'); mimeType is 'video/mp4; codecs="…"' */
  codec: string; layout: 'fragmented' | 'progressive'; fragments: number;
  audio?: { codec: 'opus' | 'aac'; sampleRate: number; channels: number; packets: number; duration: number };
}
export class Mp4Muxer {
  private constructor();
  static create(options: Mp4MuxerOptions): Promise<Mp4Muxer>;
  readonly codec: string; readonly layout: 'fragmented' | 'progressive'; readonly width: number; readonly height: number;
  readonly fps: number; readonly frames: number; readonly audioPackets: number; readonly bytes: number; readonly pendingBytes: number;
  /** the first frame must be a key frame; timestamps (any clock, the first one given is zero) must increase */
  addFrame(data: Uint8Array | ArrayBuffer, options?: { keyframe?: boolean; timestampUs?: number }): void;
  addAudio(data: Uint8Array | ArrayBuffer, options: { timestampUs: number; discardPaddingUs?: number }): void;
  finish(options?: { duration?: number }): Promise<Mp4Result>;
  abort(): void;
}
export function initVideo(options?: { simd?: boolean | 'auto'; wasm?: unknown; factory?: Function }): Promise<object>;
export function isVideoLoaded(): boolean;

// ---- audio: OpusEncoder (js-glue/audio/opus-encoder.js; the audio module, libopus, loads on first use) ----
export interface OpusEncoderOptions {
  sampleRate?: 8000 | 12000 | 16000 | 24000 | 48000; channels: 1 | 2;
  /** bits per second, 6000..510000; default 64000 mono, 96000 stereo */ bitrate?: number;
  frameMs?: 2.5 | 5 | 10 | 20 | 40 | 60; application?: 'audio' | 'voip'; /** 0..10, default 10 */ complexity?: number;
  module?: { wasm?: unknown; factory?: Function } | object;
}
export interface OpusPacket { data: Uint8Array; /** samples at sampleRate */ pts: number; duration: number; /** trailing silence flush() added */ padding: number }
export const AUDIO_LIMITS: {
  readonly sampleRates: readonly number[]; readonly minBitrate: number; readonly maxBitrate: number;
  readonly frameMs: readonly number[]; readonly maxGapSeconds: number;
};
export class OpusEncoder {
  private constructor();
  static create(options: OpusEncoderOptions): Promise<OpusEncoder>;
  readonly sampleRate: number; readonly channels: number; readonly bitrate: number; readonly frameSize: number;
  /** samples at 48 kHz a decoder drops first (OpusHead pre-skip, WebM CodecDelay) */ readonly preSkip: number;
  readonly nextSample: number; readonly packets: number;
  encode(pcm: AudioPcm, options?: { atSample?: number }): OpusPacket[];
  flush(): OpusPacket[];
  close(): void;
}
export function initAudio(options?: { wasm?: unknown; factory?: Function }): Promise<object>;
export function isAudioLoaded(): boolean;

// ---- H.264 in wasm (OpenH264, the capturekit-h264 module, loaded on first use) ----
/** The H.264 encoder's limits, the same as wasm/h264/h264_encoder.h enforces. */
export const H264_LIMITS: {
  readonly minSide: number; readonly maxSide: number; readonly minFps: number; readonly maxFps: number;
  readonly minBitrate: number; readonly maxBitrate: number; readonly maxKeyframeInterval: number;
};
export interface H264EncoderOptions {
  /** Even, 16..4096. */ width: number;
  /** Even, 16..4096. */ height: number;
  /** The rate control's frame rate (default 30). */ fps?: number;
  /** Bits per second (default 2,500,000). */ bitrate?: number;
  /** Pictures between key frames (default 2 s worth). */ keyframeInterval?: number;
  rateControl?: 'bitrate' | 'quality';
  /** 'annexb': start codes, SPS/PPS before every key frame; 'avc': 4-byte lengths, SPS/PPS only in avcC. */
  format?: 'annexb' | 'avc';
  /** Options for initH264, or a module from a separate load. */ module?: object;
}
/** H.264 Constrained Baseline from RGBA or I420 pictures: one access unit per picture, no B-frames. */
export class H264Encoder {
  private constructor();
  static create(options: H264EncoderOptions): Promise<H264Encoder>;
  /** The AVCDecoderConfigurationRecord (what MP4's avcC and VideoDecoder's description take). */
  readonly avcC: Uint8Array;
  /** e.g. "avc1.42c01f". */ readonly codec: string;
  readonly width: number; readonly height: number; readonly fps: number; readonly bitrate: number;
  readonly keyframeInterval: number; readonly format: 'annexb' | 'avc';
  /** Pictures encoded so far. */ readonly frames: number;
  /** One RGBA picture (BT.601 limited range) of the encoder's size; returns the access unit (a copy). */
  encode(image: { data: Uint8Array | Uint8ClampedArray | ArrayBuffer; width: number; height: number; stride?: number }, options?: { keyframe?: boolean }): { data: Uint8Array; keyframe: boolean; index: number };
  /** One tightly packed I420 picture. */
  encodeI420(planes: { y: Uint8Array | Uint8ClampedArray; u: Uint8Array | Uint8ClampedArray; v: Uint8Array | Uint8ClampedArray }, options?: { keyframe?: boolean }): { data: Uint8Array; keyframe: boolean; index: number };
  close(): void;
}
export function initH264(options?: { simd?: boolean | 'auto'; wasm?: unknown; factory?: Function }): Promise<object>;
export function isH264Loaded(): boolean;

// ---- recording: createRecorder (js-glue/record/) ----
/** Per-frame XR metadata (frame number, XR time, elapsed time, viewer pose), also stored in the WebM (BlockAddID 2, JSON). */
export interface XRFrameMetadata {
  /** from 1 */ frameNumber: number; /** XRFrame time, ms */ timestamp: number; /** ms since the first recorded frame */ elapsed: number;
  pose: CapturePose | null;
}
export interface RecorderOptions {
  /** 'auto': canvases / XR: WebCodecs where VideoEncoder takes the codec and (even) size, else wasm; streams and
   *  sound: WebCodecs where VideoEncoder, MediaStreamTrackProcessor (and AudioEncoder) exist, else mediarecorder. */
  backend?: 'auto' | 'wasm' | 'webcodecs' | 'mediarecorder';
  /** vp8 (default) or vp9; mediarecorder also 'h264' and 'auto' (the first of VP9, VP8, H.264 the browser records);
   *  container 'mp4' (webcodecs): 'h264' (default), 'vp9' or 'av1'; (mediarecorder) 'auto', 'h264', 'vp9' or 'av1'. */
  codec?: VideoCodec | 'h264' | 'av1' | 'auto';
  /** 'webm' (default) or 'mp4' (no per-frame metadata): webcodecs and wasm write a fragmented MP4; mediarecorder's
   *  MP4 is made progressive (moov first) at stop. createJournaledRecorder refuses 'mp4'. */
  container?: 'webm' | 'mp4';
  fps?: number; /** bits per second */ bitrate?: number; /** frames between keyframes */ keyframeInterval?: number;
  /** libvpx cpu_used, backend 'wasm' only */ speed?: number;
  /** output size; frames are scaled to it (default: the canvas / first frame) */ size?: { width: number; height: number };
  /** 'auto' (canvas/XR default): the recorder takes frames from the render loop; 'manual': captureFrame()/addFrame() */
  frames?: 'auto' | 'manual';
  /** 'fps': frame n at n / fps, every frame kept (frame-exact); 'realtime': frames stamped with their time, at most fps per second in auto mode */
  timing?: 'fps' | 'realtime';
  /** frames that may wait for the encoder before backpressure (default 8) */ maxQueuedFrames?: number;
  /** stream the file: apply each call at `offset` (smaller than the bytes so far = overwrite of a header) */
  ondata?: (bytes: Uint8Array, offset: number) => void | Promise<void>;
  onbackpressure?: (info: { what: 'refused' | 'skipped' | 'no-pose'; queued: number; maxQueuedFrames: number; skippedFrames: number }) => void;
  onerror?: (error: Error) => void;
  /** encode in a Worker (default where Worker exists) */ worker?: boolean;
  readback?: 'auto' | 'sync';
  /** recording-level extra metadata (result.metadata.extra) */ metadata?: object;
  /** make { frameNumber, timestamp, elapsed } metadata for canvas frames (XR frames always get poses) */ frameMetadata?: boolean;
  // XR
  gl?: WebGLRenderingContext | WebGL2RenderingContext; referenceSpace?: XRReferenceSpace;
  view?: number | 'left' | 'right' | 'both'; binding?: XRWebGLBinding; sessionMode?: string;
  // canvas
  context?: RenderingContext;
  /** sound: true (the microphone), constraints, a MediaStream or an audio track; several are mixed (Web Audio).
   *  A stream source's own audio tracks are recorded too; false leaves them out. Every backend: webcodecs (AudioEncoder),
   *  wasm (an AudioWorklet at 48 kHz, libopus in the record Worker), mediarecorder. */
  audio?: boolean | MediaTrackConstraints | MediaStream | MediaStreamTrack;
  /** Opus bits per second */ audioBitrate?: number;
  /** a stream source: stop its tracks when the recording ends (recordScreen / recordCamera set it) */ stopTracks?: boolean;
  // mediarecorder
  /** ms */ timeslice?: number;
  /** make the file seekable at stop (makeSeekable), default true */ repair?: boolean;
}
export interface RecordingResult {
  complete: true; backend: 'wasm' | 'webcodecs' | 'mediarecorder'; codec: string; mimeType: string;
  width: number; height: number; frames: number; keyframes: number; /** seconds */ duration: number; averageFps: number;
  /** file size */ bytes: number; /** animation frames not taken (queue full in auto mode, or no XR pose) */ skippedFrames: number;
  /** mediarecorder, manual frames */ requestedFrames?: number; /** mediarecorder with repair */ repair?: RepairInfo;
  /** why backend 'auto' chose this backend ('asked for' otherwise) */ backendReason?: string;
  /** the sound track */ audio?: { codec: 'opus' | string; sampleRate?: number; channels?: number; packets: number | null; duration?: number };
  /** seconds left out by pause() */ pausedDuration?: number;
  /** stream sources: 'stop' (stop()) or 'source' (the track ended: Stop sharing, unplugged, hung up) */ endedBy?: 'stop' | 'source';
  /** stream sources: frames of another size than the first (a resized window), scaled into it with their aspect ratio kept */ scaledFrames?: number;
  metadata: {
    backend: string; codec: string; mimeType: string; width: number; height: number; fps: number; timing: 'fps' | 'realtime';
    started: string; ended: string; duration: number; frameCount: number; averageFps: number; bytes: number; skippedFrames: number;
    sessionMode?: string | null; view?: number | string; device?: object | null; extra?: object; frames?: Array<XRFrameMetadata | unknown>;
  };
  metadataBlob?: Blob;
  /** without ondata */ data?: Uint8Array; blob?: Blob;
}
export class Recorder extends EventTarget {
  private constructor();
  readonly state: 'recording' | 'paused' | 'stopping' | 'stopped' | 'failed' | 'aborted';
  readonly backend: 'wasm' | 'webcodecs' | 'mediarecorder' | null; readonly codec: string | null; readonly mimeType: string | null;
  readonly backendReason: string | null; readonly audio: boolean; readonly pausedDuration: number; readonly startTime: number | null;
  /** no frames or sound until resume(); the paused time is left out of the file. Events 'pause', 'resume'. */
  pause(): void; resume(): void;
  readonly width: number; readonly height: number; readonly fps: number;
  readonly frames: number; readonly queued: number; readonly desiredSize: number; readonly skippedFrames: number;
  readonly bytes: number; readonly error: Error | null; readonly frameMetadata: unknown[];
  /** resolves when a frame can be added without backpressure */ readonly ready: Promise<void>;
  addFrame(image: { data: Uint8Array | Uint8ClampedArray; width: number; height: number }, options?: { timestampUs?: number; metadata?: object | string }): Promise<void>;
  captureFrame(options?: { metadata?: object | string; time?: number; frame?: XRFrame }): Promise<void> | null;
  captureXRFrame(frame: XRFrame, time?: number, options?: { metadata?: object | string }): Promise<void> | null;
  stop(): Promise<RecordingResult>;
  abort(): void;
}
export const RECORDER_LIMITS: { readonly maxQueuedFrames: number; readonly minTimeslice: number; readonly maxTimeslice: number; readonly minAudioBitrate: number; readonly maxAudioBitrate: number };
/** Starts recording a canvas, an XR session, a MediaStream / video track / array of tracks, or (null) frames given
 *  with addFrame. Events: 'backpressure', 'error', 'pause', 'resume', 'sourceended' (detail { track, result: Promise }), 'audioended'. */
export function createRecorder(source: HTMLCanvasElement | OffscreenCanvas | XRSession | MediaStream | MediaStreamTrack | MediaStreamTrack[] | null, options?: RecorderOptions): Promise<Recorder>;
/** getDisplayMedia (with its audio) + createRecorder; the recorder stops the tracks at the end. microphone: the voice mixed in. */
export function recordScreen(options?: RecorderOptions & { video?: boolean | MediaTrackConstraints; audio?: boolean | MediaTrackConstraints; microphone?: boolean | MediaTrackConstraints }): Promise<Recorder>;
/** getUserMedia (camera + microphone) + createRecorder; the recorder stops the tracks at the end. */
export function recordCamera(options?: RecorderOptions & { video?: boolean | MediaTrackConstraints; audio?: boolean | MediaTrackConstraints }): Promise<Recorder>;
/** Picture in picture: where the camera goes over the screen. */
export interface ComposeLayout {
  /** default 'bottom-right' */ corner?: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
  /** the camera's width as a fraction of the screen's, (0, 1]; default 0.25 (its aspect ratio is kept) */ size?: number;
  /** pixels from the corner's edges; default 16 */ margin?: number;
}
/** The camera drawn over the screen (a canvas at `fps`) with the sound of both mixed: record it with createRecorder. */
export class ComposedStream extends MediaStream {
  private constructor();
  /** the canvas the picture is drawn into (the screen's first size) */ readonly canvas: HTMLCanvasElement;
  readonly layout: Required<ComposeLayout>;
  /** where the camera is drawn now, in canvas pixels */ readonly cameraRect: { x: number; y: number; width: number; height: number } | null;
  /** the screen's and the camera's tracks (what stopTracks stops) */ readonly inputs: MediaStreamTrack[];
  /** stops drawing, the composed tracks and the audio mix (and the inputs' tracks with stopTracks); idempotent */
  stop(): void;
}
/** Picture in picture: the camera over the screen, both sounds mixed. The screen's video ending ends the composed video. */
export function composeStreams(options: { screen: MediaStream; camera: MediaStream; layout?: ComposeLayout; fps?: number; stopTracks?: boolean }): Promise<ComposedStream>;
export const MEDIARECORDER_PREFERENCE: readonly string[];
export function pickMediaRecorderType(codec?: 'auto' | 'vp8' | 'vp9' | 'h264' | 'av1', options?: { audio?: boolean; container?: 'webm' | 'mp4'; isTypeSupported?: (t: string) => boolean }): string | null;

/** Per-frame metadata layout: BlockGroup > BlockAdditions > BlockMore { BlockAddID 2, BlockAdditional: UTF-8 JSON }. */
export const METADATA_BLOCK_ADD_ID: 2;
export type WebmInput = Uint8Array | ArrayBuffer | ArrayBufferView;
export type WebmStreamInput = Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
export interface FrameMetadataEntry { /** index among the video frames */ frame: number; /** ms */ timestamp: number; keyframe: boolean; metadata: any }
export function readFrameMetadata(webm: WebmInput): FrameMetadataEntry[];
export function readFrameMetadata(webm: WebmStreamInput): Promise<FrameMetadataEntry[]>;
export interface WebmSummary {
  docType: string | null; duration: number | null; estimatedDuration: number; timecodeScale: number;
  tracks: Array<{ number: number; type: number; codecId: string; width: number; height: number; defaultDurationNs: number }>;
  videoFrames: number; keyframes: number; firstTimestamp: number | null; lastTimestamp: number | null;
  cuePoints: number; clusters: number; truncated: boolean;
  frames: Array<{ index: number; timestamp: number; keyframe: boolean; additions: Array<{ id: number; data: Uint8Array }> }>;
}
/** A summary of a WebM; `frames: false` keeps only counts (frames is empty) in bounded memory, for files from others. */
export function inspectWebm(webm: WebmInput, options?: { frames?: boolean }): WebmSummary;
export function inspectWebm(webm: WebmStreamInput, options?: { frames?: boolean }): Promise<WebmSummary>;

// ---- recording: crash-safe journal and recovery (js-glue/record/journal.js, recovery.js) ----
export interface JournalStore {
  kind?: string;
  open(): Promise<unknown>;
  append(id: string, seq: number, range: { offset: number; length: number; crc: number; bytes: ArrayBuffer }, state: object): Promise<void>;
  putState(state: object): Promise<void>;
  states(): Promise<JournalState[]>;
  ranges(id: string, fn: (seq: number, range: { offset: number; length: number; crc: number; bytes: ArrayBuffer }) => void | Promise<void>): Promise<void>;
  remove(id: string): Promise<void>;
  close?(): void;
}
export interface JournalState {
  id: string; createdAt: number; updatedAt: number; complete: boolean; metadata: Record<string, unknown>;
  size: number; ranges: number; frames: number; poses: number;
  recorder: { backend: string | null; codec: string | null; mimeType: string | null; width: number; height: number; fps: number } | null;
}
export function createIdbJournalStore(options?: { name?: string; indexedDB?: IDBFactory }): JournalStore;
export function createMemoryJournalStore(): JournalStore;
export class RecordingJournal {
  private constructor();
  static open(options?: { store?: JournalStore; id?: string; metadata?: Record<string, unknown> }): Promise<RecordingJournal>;
  readonly id: string; readonly size: number; readonly rangeCount: number; readonly state: JournalState;
  attach(recorder: Recorder): this;
  write(bytes: Uint8Array | ArrayBuffer, offset: number): Promise<void>;
  /** a recorder ondata: stores each range, then passes it to next */
  ondata(next?: (bytes: Uint8Array, offset: number) => void | Promise<void>): (bytes: Uint8Array, offset: number) => Promise<void>;
  blob(type?: string): Promise<Blob>;
  complete(options?: { keep?: boolean; result?: RecordingResult }): Promise<void>;
  remove(): Promise<void>;
}
/** createRecorder with a journal: stop() completes (deletes) it, abort() deletes it. */
export function createJournaledRecorder(source: HTMLCanvasElement | OffscreenCanvas | XRSession | null, options?: RecorderOptions,
  journalOptions?: { journal?: RecordingJournal; store?: JournalStore; id?: string; metadata?: Record<string, unknown>; keep?: boolean }): Promise<Recorder & { journal: RecordingJournal }>;
export interface DroppedRange { seq: number; offset: number | null; bytes: number; reason: string }
export interface RecoveredRecordingEvent {
  type: 'recordingrecovered'; recordingId: string; duration: number; frames: number; framesJournaled: number;
  truncated: boolean; droppedRanges: DroppedRange[]; droppedBytes: number; bytes: number; journaledBytes: number;
  blob: Blob; metadata: Record<string, unknown>; journal: JournalState; recoveryMs: number;
  /** not uploaded, journal deleted */ discard(): void;
  /** not uploaded, journal kept */ keep(): void;
}
export interface UnrecoverableRecordingEvent {
  recordingId: string; reason: string; droppedRanges: DroppedRange[]; droppedBytes: number; journal: JournalState;
  /** delete the journal (otherwise it is kept) */ discard(): void;
}
export interface RecoveryResult {
  recordingId: string; status: 'uploaded' | 'recovered' | 'discarded' | 'kept' | 'unrecoverable' | 'busy';
  duration?: number; frames?: number; truncated?: boolean; droppedRanges?: DroppedRange[]; bytes?: number; blob?: Blob;
  recoveryMs?: number; itemId?: string; reason?: string; deleted?: boolean;
}
/** On page load: turns journals of recordings that were never stopped into seekable WebMs and queues them. */
export function recoverRecordings(options?: {
  store?: JournalStore; uploader?: Uploader; uploadMetadata?: Record<string, unknown>;
  onrecovered?: (e: RecoveredRecordingEvent) => boolean | void | Promise<boolean | void>;
  onunrecoverable?: (e: UnrecoverableRecordingEvent) => void | Promise<void>;
}): Promise<RecoveryResult[]>;
