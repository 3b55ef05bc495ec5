// Capture metadata: plain JSON (numbers, strings, arrays) so the upload queue can store and send it.

let xrSupport = null;

async function supported(mode) {
  try {
    return await navigator.xr.isSessionSupported(mode);
  } catch {
    return false;
  }
}

/** Whether WebXR exists and which immersive modes it supports (asked once per page, then cached). */
export function getXRSupport() {
  if (!xrSupport) {
    const nav = typeof navigator === 'object' ? navigator : null;
    if (!nav || !nav.xr || typeof nav.xr.isSessionSupported !== 'function') {
      xrSupport = Promise.resolve({ available: false, immersiveVr: false, immersiveAr: false });
    } else {
      xrSupport = Promise.all([supported('immersive-vr'), supported('immersive-ar')])
        .then(([vr, ar]) => ({ available: true, immersiveVr: vr, immersiveAr: ar }));
    }
  }
  return xrSupport;
}

/** Forgets the cached XR support answer (an emulator installed later changes it). */
export function resetXRSupportCache() {
  xrSupport = null;
}

/** Device description: user agent, screen, pixel ratio, XR support; session fields when given. */
export async function getDeviceInfo({ session = null, sessionMode = null } = {}) {
  const nav = typeof navigator === 'object' ? navigator : {};
  const info = {
    userAgent: nav.userAgent || '',
    platform: (nav.userAgentData && nav.userAgentData.platform) || nav.platform || '',
    language: nav.language || '',
    hardwareConcurrency: nav.hardwareConcurrency || null,
    devicePixelRatio: typeof devicePixelRatio === 'number' ? devicePixelRatio : 1,
    screen: typeof screen === 'object' ? { width: screen.width, height: screen.height } : null,
    xr: await getXRSupport(),
    sessionMode: null,
    enabledFeatures: null,
  };
  if (session) {
    info.sessionMode = sessionMode || inferSessionMode(session);
    info.enabledFeatures = Array.isArray(session.enabledFeatures) || (session.enabledFeatures && typeof session.enabledFeatures[Symbol.iterator] === 'function')
      ? Array.from(session.enabledFeatures) : null;
    info.environmentBlendMode = session.environmentBlendMode || null;
  }
  return info;
}

/**
 * XRSession does not expose the mode it was requested with; the blend mode tells: an opaque
 * display is VR, alpha-blend/additive (see-through) is AR. `inline` sessions have no blend mode.
 */
export function inferSessionMode(session) {
  const blend = session.environmentBlendMode;
  if (blend === 'opaque') return 'immersive-vr';
  if (blend === 'alpha-blend' || blend === 'additive') return 'immersive-ar';
  return null;
}

export function vec(p) {
  return { x: p.x, y: p.y, z: p.z };
}

export function quat(q) {
  return { x: q.x, y: q.y, z: q.z, w: q.w };
}

/** An XRRigidTransform as { position, orientation } (plain objects). */
export function transformToJSON(t) {
  return { position: vec(t.position), orientation: quat(t.orientation) };
}

/** Assembles the final metadata object. */
export function buildMetadata({ timestamp, format, quality, bytes, width, height, source, device, xr, thumbnail, extra }) {
  const m = {
    timestamp,
    capturedAt: new Date(timestamp).toISOString(),
    format,
    quality: format === 'image/jpeg' ? quality : null,
    byteSize: bytes.byteLength,
    width,
    height,
    dimensions: { width, height },
    source,
    device,
  };
  if (xr) m.xr = xr;
  if (thumbnail) m.thumbnail = { width: thumbnail.width, height: thumbnail.height, format: thumbnail.format, byteSize: thumbnail.bytes.byteLength };
  if (extra) m.extra = JSON.parse(JSON.stringify(extra));
  return m;
}
