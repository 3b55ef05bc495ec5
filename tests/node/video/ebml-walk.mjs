// A small EBML/WebM reader for the tests: enough to list blocks, their BlockAdditions and the Cues,
// independently of libwebm (the code under test).
const MASTER = new Set([
  0x18538067, // Segment
  0x1f43b675, // Cluster
  0xa0, // BlockGroup
  0x75a1, // BlockAdditions
  0xa6, // BlockMore
  0x1c53bb6b, // Cues
  0xbb, // CuePoint
  0x1549a966, // Info
]);

function readVint(buf, pos, keepMarker) {
  const first = buf[pos];
  if (first === undefined) throw new RangeError(`EBML: read past the end at ${pos}`);
  let len = 1;
  while (len <= 8 && !(first & (0x80 >> (len - 1)))) len++;
  if (len > 8) throw new RangeError(`EBML: bad vint at ${pos}`);
  let value = keepMarker ? first : first & (0xff >> len);
  let allOnes = (first & (0xff >> len)) === (0xff >> len);
  for (let i = 1; i < len; i++) {
    value = value * 256 + buf[pos + i];
    if (buf[pos + i] !== 0xff) allOnes = false;
  }
  return { value, len, unknown: !keepMarker && allOnes };
}

function readUint(buf, start, end) {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 256 + buf[i];
  return v;
}

/** Walks the file and returns { blocks: [{timecode, keyframe, additions: [{id, data}]}], cuePoints, duration, timecodeScale }. */
export function readWebm(buf) {
  const out = { blocks: [], cuePoints: 0, duration: null, timecodeScale: 1000000 };
  let clusterTime = 0;
  function walk(start, end, parentId, ctx) {
    let pos = start;
    while (pos < end) {
      const id = readVint(buf, pos, true);
      const size = readVint(buf, pos + id.len, false);
      const dataStart = pos + id.len + size.len;
      const dataEnd = size.unknown ? end : dataStart + size.value;
      if (dataEnd > end) throw new RangeError(`EBML: element 0x${id.value.toString(16)} at ${pos} runs past its parent`);
      switch (id.value) {
        case 0xe7: clusterTime = readUint(buf, dataStart, dataEnd); break;
        case 0x2ad7b1: out.timecodeScale = readUint(buf, dataStart, dataEnd); break;
        case 0x4489: {
          const dv = new DataView(buf.buffer, buf.byteOffset + dataStart, dataEnd - dataStart);
          out.duration = dataEnd - dataStart === 8 ? dv.getFloat64(0) : dv.getFloat32(0);
          break;
        }
        case 0xbb: out.cuePoints++; break;
        case 0xa3: // SimpleBlock
        case 0xa1: { // Block
          const track = readVint(buf, dataStart, false);
          const rel = (buf[dataStart + track.len] << 24 >> 16) | buf[dataStart + track.len + 1];
          const flags = buf[dataStart + track.len + 2];
          const block = { timecode: clusterTime + rel, keyframe: id.value === 0xa3 ? !!(flags & 0x80) : true, additions: [] };
          if (id.value === 0xa3) out.blocks.push(block);
          else ctx.block = block;
          break;
        }
        case 0xfb: if (ctx.block) ctx.block.keyframe = false; else ctx.pendingNotKey = true; break; // ReferenceBlock
        case 0xee: ctx.addId = readUint(buf, dataStart, dataEnd); break; // BlockAddID
        case 0xa5: ctx.addData = buf.slice(dataStart, dataEnd); break; // BlockAdditional
        default: break;
      }
      if (MASTER.has(id.value)) {
        if (id.value === 0xa0) {
          const group = { block: null, additions: [], pendingNotKey: false };
          walk(dataStart, dataEnd, id.value, group);
          if (group.block) {
            if (group.pendingNotKey) group.block.keyframe = false;
            group.block.additions = group.additions;
            out.blocks.push(group.block);
          }
        } else if (id.value === 0xa6) { // BlockMore: BlockAddID defaults to 1
          const more = { addId: 1, addData: null };
          walk(dataStart, dataEnd, id.value, more);
          if (more.addData) ctx.additions.push({ id: more.addId, data: more.addData });
        } else {
          walk(dataStart, dataEnd, id.value, id.value === 0x75a1 ? ctx : {});
        }
      }
      pos = dataEnd;
    }
  }
  // Top level: EBML header, then the Segment.
  walk(0, buf.length, 0, {});
  return out;
}
