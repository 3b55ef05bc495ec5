// Reading pixels out of WebGL framebuffers without disturbing the app's GL state. Rows come back
// bottom-up (GL convention); the pipeline flips them in wasm.
//
// Two paths:
//  - readSync: gl.readPixels into a Uint8Array (blocks the main thread for the GPU round trip).
//  - readAsync (WebGL2 only): readPixels into a PIXEL_PACK_BUFFER right after the app drew, a fence,
//    and getBufferSubData once the fence has passed. The GPU copy happens off the main thread, so only
//    the final memcpy costs main-thread time. The read is issued at the same point as readSync, so it
//    sees the same frame even without preserveDrawingBuffer.
//
// `rects` is a list of { x, y, width, height, framebuffer? } (GL coordinates, origin bottom-left). They
// are laid side by side, left to right, bottom-aligned: output width is the sum, height the largest.
// A rect's own `framebuffer` (a WebGLFramebuffer, or null for the default one) overrides the
// framebuffer argument.

export function isWebGL2(gl) {
  return typeof WebGL2RenderingContext === 'function' && gl instanceof WebGL2RenderingContext;
}

export function isWebGL(gl) {
  return isWebGL2(gl) || (typeof WebGLRenderingContext === 'function' && gl instanceof WebGLRenderingContext);
}

export function layout(rects) {
  const width = rects.reduce((s, r) => s + r.width, 0);
  const height = Math.max(...rects.map((r) => r.height));
  return { width, height };
}

// Saves what a read touches; returns { bind(rect), restore() }.
function readState(gl, framebuffer) {
  const gl2 = isWebGL2(gl);
  const target = gl2 ? gl.READ_FRAMEBUFFER : gl.FRAMEBUFFER;
  const saved = {
    fb: gl.getParameter(gl2 ? gl.READ_FRAMEBUFFER_BINDING : gl.FRAMEBUFFER_BINDING),
    align: gl.getParameter(gl.PACK_ALIGNMENT),
  };
  if (gl2) {
    saved.pbo = gl.getParameter(gl.PIXEL_PACK_BUFFER_BINDING);
    saved.row = gl.getParameter(gl.PACK_ROW_LENGTH);
    saved.skipPx = gl.getParameter(gl.PACK_SKIP_PIXELS);
    saved.skipRows = gl.getParameter(gl.PACK_SKIP_ROWS);
    gl.pixelStorei(gl.PACK_SKIP_ROWS, 0);
  }
  gl.pixelStorei(gl.PACK_ALIGNMENT, 4);
  let bound;
  return {
    bind(r) {
      const fb = r.framebuffer !== undefined ? r.framebuffer : framebuffer;
      if (fb !== bound) {
        gl.bindFramebuffer(target, fb);
        bound = fb;
      }
    },
    restore() {
      gl.bindFramebuffer(target, saved.fb);
      if (gl2) {
        gl.bindBuffer(gl.PIXEL_PACK_BUFFER, saved.pbo);
        gl.pixelStorei(gl.PACK_ROW_LENGTH, saved.row);
        gl.pixelStorei(gl.PACK_SKIP_PIXELS, saved.skipPx);
        gl.pixelStorei(gl.PACK_SKIP_ROWS, saved.skipRows);
      }
      gl.pixelStorei(gl.PACK_ALIGNMENT, saved.align);
    },
  };
}

function checkGlError(gl, what) {
  const err = gl.getError();
  if (err !== gl.NO_ERROR) {
    if (gl.isContextLost()) throw new Error(`${what}: the WebGL context was lost during the capture`);
    throw new Error(`${what}: readPixels failed with GL error 0x${err.toString(16)}`);
  }
}

function drainErrors(gl) {
  for (let i = 0; i < 8 && gl.getError() !== gl.NO_ERROR; i++);
}

/** Reads `rects` into a new Uint8Array, synchronously: { pixels, width, height }. */
export function readSync(gl, framebuffer, rects, what) {
  const { width, height } = layout(rects);
  const out = new Uint8Array(width * height * 4);
  const gl2 = isWebGL2(gl);
  drainErrors(gl);
  const st = readState(gl, framebuffer);
  try {
    if (gl2) {
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, null);
      gl.pixelStorei(gl.PACK_ROW_LENGTH, rects.length > 1 ? width : 0);
    }
    let x0 = 0;
    for (const r of rects) {
      st.bind(r);
      if (rects.length === 1) {
        gl.readPixels(r.x, r.y, r.width, r.height, gl.RGBA, gl.UNSIGNED_BYTE, out);
      } else if (gl2) {
        gl.pixelStorei(gl.PACK_SKIP_PIXELS, x0);
        gl.readPixels(r.x, r.y, r.width, r.height, gl.RGBA, gl.UNSIGNED_BYTE, out);
      } else {
        // WebGL1 has no PACK_ROW_LENGTH: read the rectangle, then place its rows.
        const tmp = new Uint8Array(r.width * r.height * 4);
        gl.readPixels(r.x, r.y, r.width, r.height, gl.RGBA, gl.UNSIGNED_BYTE, tmp);
        for (let row = 0; row < r.height; row++) {
          out.set(tmp.subarray(row * r.width * 4, (row + 1) * r.width * 4), (row * width + x0) * 4);
        }
      }
      x0 += r.width;
    }
    checkGlError(gl, what);
  } finally {
    st.restore();
  }
  return { pixels: out, width, height };
}

/**
 * WebGL2: issues the reads into a pixel-pack buffer now and returns
 * { width, height, result: Promise<Uint8Array>, mainMs: () => number } where mainMs reports the
 * main-thread time spent in the later fence polls and the copy out. `takeBuffer(size)` may supply a
 * destination whose pages are already faulted in (a fresh 8 MB array costs ~3 ms to touch).
 */
export function readAsync(gl, framebuffer, rects, what, { takeBuffer } = {}) {
  const { width, height } = layout(rects);
  const size = width * height * 4;
  // No gl.getError() here: it is a synchronous round trip to the GPU process, which would make the
  // main thread wait for the frame to finish rendering (the cost this path exists to avoid). The
  // arguments are valid by construction (RGBA/UNSIGNED_BYTE into a buffer of the exact size).
  const st = readState(gl, framebuffer);
  let pbo = null;
  let sync = null;
  try {
    pbo = gl.createBuffer();
    gl.bindBuffer(gl.PIXEL_PACK_BUFFER, pbo);
    gl.bufferData(gl.PIXEL_PACK_BUFFER, size, gl.STREAM_READ);
    gl.pixelStorei(gl.PACK_ROW_LENGTH, rects.length > 1 ? width : 0);
    let x0 = 0;
    for (const r of rects) {
      st.bind(r);
      gl.pixelStorei(gl.PACK_SKIP_PIXELS, rects.length > 1 ? x0 : 0);
      gl.readPixels(r.x, r.y, r.width, r.height, gl.RGBA, gl.UNSIGNED_BYTE, 0);
      x0 += r.width;
    }
    // (No gl.flush(): the browser flushes at the end of the task anyway, and a flush costs ~1 ms.)
    sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
    if (!sync) throw new Error(`${what}: could not create a GPU fence${gl.isContextLost() ? ' (the WebGL context was lost)' : ''}`);
  } catch (err) {
    if (sync) gl.deleteSync(sync);
    if (pbo) gl.deleteBuffer(pbo);
    throw err;
  } finally {
    st.restore();
  }
  let main = 0;
  const cleanup = () => {
    if (gl.isContextLost()) return;
    gl.deleteSync(sync);
    gl.deleteBuffer(pbo);
  };
  const result = new Promise((resolve, reject) => {
    const poll = () => {
      const t0 = performance.now();
      try {
        if (gl.isContextLost()) throw new Error(`${what}: the WebGL context was lost during the capture`);
        const s = gl.clientWaitSync(sync, 0, 0);
        if (s === gl.WAIT_FAILED) throw new Error(`${what}: waiting for the GPU read failed`);
        if (s === gl.TIMEOUT_EXPIRED) {
          main += performance.now() - t0;
          setTimeout(poll, 1);
          return;
        }
        const out = (takeBuffer && takeBuffer(size)) || new Uint8Array(size);
        const prev = gl.getParameter(gl.PIXEL_PACK_BUFFER_BINDING);
        gl.bindBuffer(gl.PIXEL_PACK_BUFFER, pbo);
        gl.getBufferSubData(gl.PIXEL_PACK_BUFFER, 0, out);
        gl.bindBuffer(gl.PIXEL_PACK_BUFFER, prev);
        cleanup();
        main += performance.now() - t0;
        resolve(out);
      } catch (err) {
        main += performance.now() - t0;
        cleanup();
        reject(err);
      }
    };
    setTimeout(poll, 0);
  });
  return { width, height, result, mainMs: () => main };
}

/**
 * Temporary read framebuffers for textures (XR projection layers): target(tex, layerIndex) returns a
 * framebuffer with the texture (or one layer of a texture array) as COLOR_ATTACHMENT0; release()
 * deletes them and restores the binding.
 */
export function textureTargets(gl) {
  const gl2 = isWebGL2(gl);
  const target = gl2 ? gl.READ_FRAMEBUFFER : gl.FRAMEBUFFER;
  const prev = gl.getParameter(gl2 ? gl.READ_FRAMEBUFFER_BINDING : gl.FRAMEBUFFER_BINDING);
  const made = [];
  return {
    target(texture, layerIndex = null) {
      const fb = gl.createFramebuffer();
      made.push(fb);
      gl.bindFramebuffer(target, fb);
      if (layerIndex !== null && gl2) gl.framebufferTextureLayer(target, gl.COLOR_ATTACHMENT0, texture, 0, layerIndex);
      else gl.framebufferTexture2D(target, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
      gl.bindFramebuffer(target, prev);
      return fb;
    },
    release() {
      for (const fb of made) gl.deleteFramebuffer(fb);
      gl.bindFramebuffer(target, prev);
    },
  };
}
