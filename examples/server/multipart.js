// Reads one multipart upload (small fields + one file) with @fastify/multipart: the file is streamed
// to an fsynced temp file while hashed; fields are kept as @fastify/multipart field parts.
import { rm } from 'node:fs/promises';
import { httpError } from './storage.js';

// Multipart limits that are about the shape of the body, not its size: 400 with what was wrong.
const LIMIT_ERRORS = {
  FST_FILES_LIMIT: 'one file per request: the body holds more than one file part',
  FST_PARTS_LIMIT: 'too many parts in the multipart body',
  FST_FIELDS_LIMIT: 'too many fields in the multipart body',
};

/**
 * @param request         fastify request (multipart/form-data)
 * @param storage         Storage (temp files)
 * @param fileFields      accepted names of the file part
 * @param maxFileBytes    413 beyond: the reading stops there (the answer closes the connection)
 * @param maxFieldBytes   per text field; a longer field arrives with valueTruncated set
 * @param beforeFile      async (fields) => void, called when the file part starts; may throw (the body is
 *                        still read to its end so the client gets the error and not a reset)
 * A second file part is 400.
 * @returns {{ fields: Object<string, object>, file: {path,size,sha256,head}|null, filename: string|null }}
 */
export async function readUpload(request, { storage, fileFields, maxFileBytes, maxFieldBytes = 4096, beforeFile }) {
  if (!request.isMultipart()) throw httpError(415, 'expected multipart/form-data');
  const fields = Object.create(null);
  let file = null;
  let filename = null;
  let failure = null;
  const fail = (e) => { if (!failure) failure = e; };
  try {
    // busboy's own file limit is one byte above ours: at its limit busboy would only stop passing the
    // bytes on and go on reading the body to the part's end; one byte more fails storage.receive,
    // which destroys the part and ends the reading.
    const parts = request.parts({
      limits: { fileSize: maxFileBytes + 1, fieldSize: maxFieldBytes, files: 1, fields: 16, parts: 20, fieldNameSize: 64 },
    });
    for await (const part of parts) {
      if (part.type !== 'file') {
        if (!(part.fieldname in fields)) fields[part.fieldname] = part;
        continue;
      }
      if (failure || file || !fileFields.includes(part.fieldname)) {
        if (!failure && !fileFields.includes(part.fieldname)) {
          fail(httpError(400, `unexpected file field "${String(part.fieldname).slice(0, 32)}" (expected ${fileFields.join(' or ')})`));
        }
        part.file.resume();
        continue;
      }
      if (beforeFile) {
        try {
          await beforeFile(fields);
        } catch (e) {
          fail(e);
          part.file.resume();
          continue;
        }
      }
      try {
        file = await storage.receive(part.file, { maxBytes: maxFileBytes, isTruncated: () => part.file.truncated });
        filename = part.filename || null;
      } catch (e) {
        fail(e);
        if (e && e.statusCode === 413) break; // the rest of the body is not read
        part.file.resume();
      }
    }
  } catch (e) {
    if (e && LIMIT_ERRORS[e.code]) fail(httpError(400, LIMIT_ERRORS[e.code]));
    else if (e && e.statusCode === 413) fail(httpError(413, `upload exceeds the limit of ${maxFileBytes} bytes`));
    else fail(e && e.statusCode ? httpError(e.statusCode >= 500 ? 400 : e.statusCode, e.message) : httpError(400, 'malformed multipart body'));
  }
  if (failure) {
    if (file) await rm(file.path, { force: true });
    throw failure;
  }
  return { fields, file, filename };
}

/** A text field's value, or undefined. */
export function fieldValue(fields, ...names) {
  for (const n of names) {
    const f = fields[n];
    if (f && typeof f.value === 'string') return f.value;
    if (f && f.value !== undefined) return f.value;
  }
  return undefined;
}
