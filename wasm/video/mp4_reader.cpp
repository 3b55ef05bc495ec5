#include "video/mp4_reader.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <iterator>

namespace ck {

std::string Mp4FourCC(uint32_t type) {
  std::string s(4, ' ');
  for (int i = 0; i < 4; ++i) {
    const char c = char((type >> (24 - 8 * i)) & 0xff);
    s[size_t(i)] = (c >= 32 && c < 127) ? c : '?';
  }
  return s;
}

namespace {

std::string At(uint64_t offset) { return " at byte " + std::to_string(offset); }

// Bounds-checked big-endian reads over one in-memory box payload.
class Cursor {
 public:
  Cursor(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool Has(size_t k) const { return k <= n_ - p_; }
  size_t left() const { return n_ - p_; }
  size_t pos() const { return p_; }
  const uint8_t* here() const { return d_ + p_; }
  bool Skip(size_t k) {
    if (!Has(k)) return false;
    p_ += k;
    return true;
  }
  bool U8(uint8_t* v) {
    if (!Has(1)) return false;
    *v = d_[p_++];
    return true;
  }
  bool U16(uint16_t* v) {
    if (!Has(2)) return false;
    *v = uint16_t(d_[p_] << 8 | d_[p_ + 1]);
    p_ += 2;
    return true;
  }
  bool U32(uint32_t* v) {
    if (!Has(4)) return false;
    *v = uint32_t(d_[p_]) << 24 | uint32_t(d_[p_ + 1]) << 16 | uint32_t(d_[p_ + 2]) << 8 | d_[p_ + 3];
    p_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    uint32_t hi = 0, lo = 0;
    if (!Has(8) || !U32(&hi) || !U32(&lo)) return false;
    *v = uint64_t(hi) << 32 | lo;
    return true;
  }
  // version (8 bits) + flags (24 bits)
  bool Full(uint8_t* version, uint32_t* flags) {
    uint32_t v = 0;
    if (!U32(&v)) return false;
    *version = uint8_t(v >> 24);
    *flags = v & 0xffffff;
    return true;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t p_ = 0;
};

// One child box inside an in-memory payload.
struct Child {
  uint32_t type;
  const uint8_t* data;  // payload
  size_t size;          // payload bytes
  uint64_t offset;      // file offset of the box
  uint32_t header;      // bytes of its header (8, or 16 with a 64-bit size)
};

// Calls fn(child) for each box in data[0..size); `base` is the file offset of data[0].
template <typename Fn>
Status ForEachBox(const uint8_t* data, size_t size, uint64_t base, const char* parent, Fn&& fn) {
  size_t p = 0;
  while (p < size) {
    if (size - p < 8) {
      return Status::CorruptData(std::string("truncated box header inside '") + parent + "'" + At(base + p));
    }
    Cursor c(data + p, size - p);
    uint32_t size32 = 0, type = 0;
    c.U32(&size32);
    c.U32(&type);
    uint64_t box_size = size32;
    size_t header = 8;
    if (size32 == 1) {
      if (!c.U64(&box_size)) {
        return Status::CorruptData("truncated 64-bit size of box '" + Mp4FourCC(type) + "'" + At(base + p));
      }
      header = 16;
    } else if (size32 == 0) {
      box_size = size - p;  // to the end of the parent
    }
    if (box_size < header || box_size > size - p) {
      return Status::CorruptData("box '" + Mp4FourCC(type) + "'" + At(base + p) + " declares " +
                                 std::to_string(box_size) + " bytes, past the end of its parent '" + parent +
                                 "' (" + std::to_string(size - p) + " bytes left)");
    }
    Status s = fn(Child{type, data + p + header, size_t(box_size) - header, base + p, uint32_t(header)});
    if (!s.ok()) return s;
    p += size_t(box_size);
  }
  return Status::Ok();
}

Status Short(const char* box, uint64_t offset) {
  return Status::CorruptData(std::string("box '") + box + "'" + At(offset) + " is too short for its fields");
}

bool KnownEntry(uint32_t type, uint32_t* config) {
  struct Pair {
    uint32_t entry, config;
  };
  static const Pair kPairs[] = {
      {Mp4Type("avc1"), Mp4Type("avcC")}, {Mp4Type("avc3"), Mp4Type("avcC")}, {Mp4Type("hvc1"), Mp4Type("hvcC")},
      {Mp4Type("hev1"), Mp4Type("hvcC")}, {Mp4Type("vp09"), Mp4Type("vpcC")}, {Mp4Type("av01"), Mp4Type("av1C")},
      {Mp4Type("Opus"), Mp4Type("dOps")}, {Mp4Type("mp4a"), Mp4Type("esds")}};
  for (const Pair& p : kPairs) {
    if (p.entry == type) {
      *config = p.config;
      return true;
    }
  }
  return false;
}

bool IsVisual(uint32_t t) {
  return t == Mp4Type("avc1") || t == Mp4Type("avc3") || t == Mp4Type("hvc1") || t == Mp4Type("hev1") ||
         t == Mp4Type("vp09") || t == Mp4Type("av01");
}

Status ParseSampleEntry(const Child& e, Mp4Track* t) {
  uint32_t config_type = 0;
  if (!KnownEntry(e.type, &config_type)) {
    return Status::CorruptData("unknown codec: sample entry '" + Mp4FourCC(e.type) + "'" + At(e.offset) +
                                   " of track " + std::to_string(t->id) +
                                   " (this reader knows avc1/avc3, hvc1/hev1, vp09, av01, Opus, mp4a)");
  }
  t->sample_entry_type = e.type;
  Cursor c(e.data, e.size);
  size_t fields = 0;
  if (IsVisual(e.type)) {
    if (!c.Skip(24) || !c.U16(&t->width) || !c.U16(&t->height)) return Short(Mp4FourCC(e.type).c_str(), e.offset);
    fields = 78;
  } else {
    uint16_t version = 0, channels = 0;
    uint32_t rate = 0;
    if (!c.Skip(8) || !c.U16(&version) || !c.Skip(6) || !c.U16(&channels) || !c.Skip(6) || !c.U32(&rate)) {
      return Short(Mp4FourCC(e.type).c_str(), e.offset);
    }
    t->channels = channels;
    t->sample_rate = rate >> 16;
    fields = 28 + (version == 1 ? 16 : version == 2 ? 36 : 0);
  }
  if (e.size < fields) return Short(Mp4FourCC(e.type).c_str(), e.offset);
  const uint64_t children_offset = e.offset + e.header + fields;
  Status s = ForEachBox(e.data + fields, e.size - fields, children_offset, Mp4FourCC(e.type).c_str(),
                        [&](const Child& b) {
                          if (b.type == config_type && t->config_type == 0) {
                            t->config_type = b.type;
                            t->config.assign(b.data, b.data + b.size);
                          }
                          return Status::Ok();
                        });
  if (!s.ok()) return s;
  if (t->config_type == 0) {
    return Status::CorruptData("sample entry '" + Mp4FourCC(e.type) + "'" + At(e.offset) + " of track " +
                               std::to_string(t->id) + " has no '" + Mp4FourCC(config_type) + "' box");
  }
  if (t->audio() && t->sample_rate == 0 && e.type == Mp4Type("Opus")) t->sample_rate = 48000;
  return Status::Ok();
}

// The sample tables of one stbl, turned into samples.
struct Tables {
  std::vector<std::pair<uint32_t, uint32_t>> stts, ctts;  // (count, delta/offset)
  bool has_stss = false;
  std::vector<uint32_t> stss;
  struct Stsc {
    uint32_t first_chunk, per_chunk, description;
  };
  std::vector<Stsc> stsc;
  uint32_t stsz_fixed = 0;
  uint32_t stsz_count = 0;
  std::vector<uint32_t> stsz;
  std::vector<uint64_t> chunks;
  bool seen_stsz = false, seen_stco = false, seen_stts = false, seen_stsc = false, seen_stsd = false;
};

Status ParseTable(const Child& b, Tables* tb, Mp4Track* t) {
  Cursor c(b.data, b.size);
  uint8_t version = 0;
  uint32_t flags = 0, count = 0;
  const std::string name = Mp4FourCC(b.type);
  auto counted = [&](size_t entry_bytes) -> Status {
    if (!c.Full(&version, &flags) || !c.U32(&count)) return Short(name.c_str(), b.offset);
    if (uint64_t(count) * entry_bytes > c.left()) {
      return Status::CorruptData("box '" + name + "'" + At(b.offset) + " declares " + std::to_string(count) +
                                 " entries but holds " + std::to_string(c.left() / entry_bytes));
    }
    if (count > kMaxMp4Samples) {
      return Status::ResourceExhausted("box '" + name + "'" + At(b.offset) + " has " + std::to_string(count) +
                                       " entries, more than " + std::to_string(kMaxMp4Samples));
    }
    return Status::Ok();
  };
  if (b.type == Mp4Type("stsd")) {
    if (!c.Full(&version, &flags) || !c.U32(&count)) return Short("stsd", b.offset);
    tb->seen_stsd = true;
    bool first = true;
    return ForEachBox(c.here(), c.left(), b.offset + b.header + 8, "stsd", [&](const Child& e) {
      if (!first) return Status::Ok();  // samples referring to other descriptions are not supported below
      first = false;
      Status s = ParseSampleEntry(e, t);
      if (s.ok()) t->sample_entry.assign(e.data - e.header, e.data + e.size);
      return s;
    });
  }
  if (b.type == Mp4Type("stts") || b.type == Mp4Type("ctts")) {
    Status s = counted(8);
    if (!s.ok()) return s;
    auto& v = b.type == Mp4Type("stts") ? tb->stts : tb->ctts;
    if (b.type == Mp4Type("stts")) tb->seen_stts = true;
    v.resize(count);
    for (auto& e : v) c.U32(&e.first), c.U32(&e.second);
    return Status::Ok();
  }
  if (b.type == Mp4Type("stss")) {
    Status s = counted(4);
    if (!s.ok()) return s;
    tb->has_stss = true;
    tb->stss.resize(count);
    for (auto& e : tb->stss) c.U32(&e);
    return Status::Ok();
  }
  if (b.type == Mp4Type("stsc")) {
    Status s = counted(12);
    if (!s.ok()) return s;
    tb->seen_stsc = true;
    tb->stsc.resize(count);
    for (auto& e : tb->stsc) c.U32(&e.first_chunk), c.U32(&e.per_chunk), c.U32(&e.description);
    return Status::Ok();
  }
  if (b.type == Mp4Type("stsz")) {
    if (!c.Full(&version, &flags) || !c.U32(&tb->stsz_fixed) || !c.U32(&tb->stsz_count)) return Short("stsz", b.offset);
    tb->seen_stsz = true;
    if (tb->stsz_count > kMaxMp4Samples) {
      return Status::ResourceExhausted("box 'stsz'" + At(b.offset) + " has " + std::to_string(tb->stsz_count) +
                                       " samples, more than " + std::to_string(kMaxMp4Samples));
    }
    if (tb->stsz_fixed == 0) {
      if (uint64_t(tb->stsz_count) * 4 > c.left()) {
        return Status::CorruptData("box 'stsz'" + At(b.offset) + " declares " + std::to_string(tb->stsz_count) +
                                   " sample sizes but holds " + std::to_string(c.left() / 4));
      }
      tb->stsz.resize(tb->stsz_count);
      for (auto& e : tb->stsz) c.U32(&e);
    }
    return Status::Ok();
  }
  if (b.type == Mp4Type("stz2")) {
    return Status::CorruptData("box 'stz2'" + At(b.offset) + " (compact sample sizes) is not supported");
  }
  if (b.type == Mp4Type("stco") || b.type == Mp4Type("co64")) {
    const bool wide = b.type == Mp4Type("co64");
    Status s = counted(wide ? 8 : 4);
    if (!s.ok()) return s;
    tb->seen_stco = true;
    tb->chunks.resize(count);
    for (auto& e : tb->chunks) {
      if (wide) {
        c.U64(&e);
      } else {
        uint32_t v = 0;
        c.U32(&v);
        e = v;
      }
    }
    return Status::Ok();
  }
  return Status::Ok();
}

Status Disagree(const Mp4Track& t, const std::string& why) {
  return Status::CorruptData("the moov's sample tables of track " + std::to_string(t.id) + " disagree: " + why);
}

Status BuildSamples(const Tables& tb, Mp4Track* t) {
  uint64_t stts_n = 0;
  for (const auto& e : tb.stts) stts_n += e.first;
  const uint64_t n = tb.stsz_count;
  if (stts_n != n) {
    return Disagree(*t, "stts counts " + std::to_string(stts_n) + " samples, stsz " + std::to_string(n));
  }
  if (!tb.ctts.empty()) {
    uint64_t ctts_n = 0;
    for (const auto& e : tb.ctts) ctts_n += e.first;
    if (ctts_n != n) {
      return Disagree(*t, "ctts counts " + std::to_string(ctts_n) + " samples, stsz " + std::to_string(n));
    }
  }
  if (n == 0) return Status::Ok();
  if (tb.stsc.empty() || tb.chunks.empty()) return Disagree(*t, std::to_string(n) + " samples but no chunks");
  if (tb.stsc[0].first_chunk != 1) return Disagree(*t, "the first stsc entry does not start at chunk 1");
  t->samples.resize(n);
  // Sizes, durations, composition offsets.
  uint64_t i = 0, time = 0;
  for (const auto& e : tb.stts) {
    for (uint32_t k = 0; k < e.first; ++k, ++i) {
      t->samples[i].duration = e.second;
      t->samples[i].decode_time = time;
      time += e.second;
    }
  }
  i = 0;
  for (const auto& e : tb.ctts) {
    for (uint32_t k = 0; k < e.first; ++k, ++i) t->samples[i].composition_offset = int32_t(e.second);
  }
  for (i = 0; i < n; ++i) {
    t->samples[i].size = tb.stsz_fixed ? tb.stsz_fixed : tb.stsz[i];
    t->samples[i].sync = !tb.has_stss;
  }
  for (uint32_t s : tb.stss) {
    if (s == 0 || s > n) return Disagree(*t, "stss names sample " + std::to_string(s) + " of " + std::to_string(n));
    t->samples[s - 1].sync = true;
  }
  // Offsets: stsc runs over the chunks.
  uint64_t sample = 0;
  for (size_t r = 0; r < tb.stsc.size(); ++r) {
    const uint64_t first = tb.stsc[r].first_chunk;
    const uint64_t last = r + 1 < tb.stsc.size() ? uint64_t(tb.stsc[r + 1].first_chunk) - 1 : tb.chunks.size();
    if (first == 0 || first > tb.chunks.size() || (r + 1 < tb.stsc.size() && tb.stsc[r + 1].first_chunk <= first)) {
      return Disagree(*t, "stsc entry " + std::to_string(r + 1) + " names chunk " + std::to_string(first) + " of " +
                              std::to_string(tb.chunks.size()));
    }
    if (tb.stsc[r].description != 1) {
      return Disagree(*t, "stsc entry " + std::to_string(r + 1) + " uses sample description " +
                              std::to_string(tb.stsc[r].description) + " (only the first is read)");
    }
    for (uint64_t ch = first; ch <= last && ch <= tb.chunks.size(); ++ch) {
      uint64_t off = tb.chunks[ch - 1];
      for (uint32_t k = 0; k < tb.stsc[r].per_chunk; ++k) {
        if (sample >= n) {
          return Disagree(*t, "stsc places more samples in chunks than stsz has (" + std::to_string(n) + ")");
        }
        t->samples[sample].offset = off;
        off += t->samples[sample].size;
        ++sample;
      }
    }
  }
  if (sample != n) {
    return Disagree(*t, "the chunks hold " + std::to_string(sample) + " samples, stsz " + std::to_string(n));
  }
  return Status::Ok();
}

Status ParseTrak(const Child& trak, Mp4Track* t) {
  Tables tb;
  bool seen_tkhd = false, seen_mdhd = false, seen_stbl = false;
  Status s = ForEachBox(trak.data, trak.size, trak.offset + trak.header, "trak", [&](const Child& b) -> Status {
    if (b.type == Mp4Type("tkhd")) {
      Cursor c(b.data, b.size);
      uint8_t v = 0;
      uint32_t f = 0, id = 0;
      if (!c.Full(&v, &f) || !c.Skip(v == 1 ? 16 : 8) || !c.U32(&id) || !c.Skip(4)) return Short("tkhd", b.offset);
      if (v == 1) {
        if (!c.U64(&t->track_duration)) return Short("tkhd", b.offset);
      } else {
        uint32_t d = 0;
        if (!c.U32(&d)) return Short("tkhd", b.offset);
        t->track_duration = d;
      }
      t->id = id;
      seen_tkhd = true;
      return Status::Ok();
    }
    if (b.type == Mp4Type("edts")) {
      return ForEachBox(b.data, b.size, b.offset + b.header, "edts", [&](const Child& e) -> Status {
        if (e.type != Mp4Type("elst")) return Status::Ok();
        Cursor c(e.data, e.size);
        uint8_t v = 0;
        uint32_t f = 0, n = 0;
        if (!c.Full(&v, &f) || !c.U32(&n)) return Short("elst", e.offset);
        if (uint64_t(n) * (v == 1 ? 20 : 12) > c.left()) return Short("elst", e.offset);
        for (uint32_t k = 0; k < n; ++k) {
          Mp4EditEntry x;
          uint16_t ri = 0, rf = 0;
          if (v == 1) {
            uint64_t mt = 0;
            c.U64(&x.segment_duration);
            c.U64(&mt);
            x.media_time = int64_t(mt);
          } else {
            uint32_t d = 0, mt = 0;
            c.U32(&d);
            c.U32(&mt);
            x.segment_duration = d;
            x.media_time = int32_t(mt);
          }
          c.U16(&ri);
          c.U16(&rf);
          x.rate = uint32_t(ri) << 16 | rf;
          t->edits.push_back(x);
        }
        return Status::Ok();
      });
    }
    if (b.type != Mp4Type("mdia")) return Status::Ok();
    return ForEachBox(b.data, b.size, b.offset + b.header, "mdia", [&](const Child& m) -> Status {
      if (m.type == Mp4Type("mdhd")) {
        Cursor c(m.data, m.size);
        uint8_t v = 0;
        uint32_t f = 0;
        if (!c.Full(&v, &f) || !c.Skip(v == 1 ? 16 : 8) || !c.U32(&t->timescale)) return Short("mdhd", m.offset);
        if (v == 1) {
          if (!c.U64(&t->media_duration)) return Short("mdhd", m.offset);
        } else {
          uint32_t d = 0;
          if (!c.U32(&d)) return Short("mdhd", m.offset);
          t->media_duration = d;
        }
        if (t->timescale == 0) return Status::CorruptData("box 'mdhd'" + At(m.offset) + " has a timescale of 0");
        seen_mdhd = true;
        return Status::Ok();
      }
      if (m.type == Mp4Type("hdlr")) {
        Cursor c(m.data, m.size);
        if (!c.Skip(8) || !c.U32(&t->handler)) return Short("hdlr", m.offset);
        return Status::Ok();
      }
      if (m.type != Mp4Type("minf")) return Status::Ok();
      return ForEachBox(m.data, m.size, m.offset + m.header, "minf", [&](const Child& n) -> Status {
        if (n.type != Mp4Type("stbl")) return Status::Ok();
        seen_stbl = true;
        return ForEachBox(n.data, n.size, n.offset + n.header, "stbl", [&](const Child& x) { return ParseTable(x, &tb, t); });
      });
    });
  });
  if (!s.ok()) return s;
  if (!seen_tkhd) return Status::CorruptData("the trak" + At(trak.offset) + " has no tkhd");
  if (!seen_mdhd) return Status::CorruptData("track " + std::to_string(t->id) + " has no mdhd");
  if (!seen_stbl || !tb.seen_stsd || t->sample_entry_type == 0) {
    return Status::CorruptData("track " + std::to_string(t->id) + " has no sample description (stbl/stsd)");
  }
  if (!tb.seen_stsz || !tb.seen_stts || !tb.seen_stsc || !tb.seen_stco) {
    return Status::CorruptData("track " + std::to_string(t->id) + " lacks one of stts, stsc, stsz, stco/co64");
  }
  return BuildSamples(tb, t);
}

}  // namespace

std::string Mp4Track::codec() const {
  switch (sample_entry_type) {
    case Mp4Type("avc1"):
    case Mp4Type("avc3"): return "h264";
    case Mp4Type("hvc1"):
    case Mp4Type("hev1"): return "hevc";
    case Mp4Type("vp09"): return "vp9";
    case Mp4Type("av01"): return "av1";
    case Mp4Type("Opus"): return "opus";
    case Mp4Type("mp4a"): return "aac";
    default: return "";
  }
}

std::string Mp4Track::CodecString() const {
  char buf[40];
  const std::vector<uint8_t>& c = config;
  switch (sample_entry_type) {
    case Mp4Type("avc1"):
    case Mp4Type("avc3"):
      if (c.size() < 4) return Mp4FourCC(sample_entry_type);
      snprintf(buf, sizeof buf, "%s.%02x%02x%02x", Mp4FourCC(sample_entry_type).c_str(), c[1], c[2], c[3]);
      return buf;
    case Mp4Type("vp09"):
      if (c.size() < 8) return "vp09";  // FullBox header, profile, level, bitDepth(4) ...
      snprintf(buf, sizeof buf, "vp09.%02d.%02d.%02d", c[4], c[5], c[6] >> 4);
      return buf;
    case Mp4Type("av01"): {
      if (c.size() < 4) return "av01";
      const int profile = c[1] >> 5, level = c[1] & 31, tier = c[2] >> 7;
      const bool high = c[2] & 0x40, twelve = c[2] & 0x20;
      snprintf(buf, sizeof buf, "av01.%d.%02d%c.%02d", profile, level, tier ? 'H' : 'M', high ? (twelve ? 12 : 10) : 8);
      return buf;
    }
    case Mp4Type("Opus"): return "opus";
    case Mp4Type("mp4a"): {
      // esds: FullBox header, then descriptors; find the DecoderConfigDescriptor (tag 4) and its
      // DecoderSpecificInfo (tag 5): objectTypeIndication and the audio object type.
      int oti = 0x40, aot = 2;
      for (size_t i = 4; i + 2 < c.size(); ++i) {
        if (c[i] == 4) {
          size_t j = i + 1;
          while (j < c.size() && (c[j] & 0x80)) ++j;
          if (j + 1 < c.size()) oti = c[j + 1];
          for (size_t k = j; k + 2 < c.size(); ++k) {
            if (c[k] == 5) {
              size_t m = k + 1;
              while (m < c.size() && (c[m] & 0x80)) ++m;
              if (m + 1 < c.size()) aot = c[m + 1] >> 3;
              break;
            }
          }
          break;
        }
      }
      snprintf(buf, sizeof buf, "mp4a.%x.%d", oti, aot);
      return buf;
    }
    default: return Mp4FourCC(sample_entry_type);
  }
}

const Mp4Track* Mp4Movie::Find(uint32_t id) const {
  for (const Mp4Track& t : tracks)
    if (t.id == id) return &t;
  return nullptr;
}

Status Mp4StreamReader::Fail(Status s) {
  failed_ = true;
  error_ = s;
  return s;
}

Status Mp4StreamReader::Feed(const uint8_t* data, size_t size) {
  if (failed_) return error_;
  if (finished_) return Fail(Status::FailedPrecondition("Feed after Finish"));
  size_t p = 0;
  while (p < size) {
    switch (state_) {
      case State::kHeader: {
        const uint32_t need = head_len_ >= 8 && head_[0] == 0 && head_[1] == 0 && head_[2] == 0 && head_[3] == 1 ? 16 : 8;
        const size_t k = std::min<size_t>(need - head_len_, size - p);
        memcpy(head_ + head_len_, data + p, k);
        head_len_ += uint32_t(k);
        p += k;
        pos_ += k;
        if (head_len_ == 8 && need == 8 && head_[0] == 0 && head_[1] == 0 && head_[2] == 0 && head_[3] == 1) break;
        if (head_len_ < need) break;
        Status s = StartBox();
        if (!s.ok()) return Fail(s);
        break;
      }
      case State::kBuffer:
      case State::kMediaData:
      case State::kSkip: {
        const size_t k = size_t(std::min<uint64_t>(remaining_, size - p));
        if (state_ == State::kBuffer) {
          buffer_.insert(buffer_.end(), data + p, data + p + k);
        } else if (state_ == State::kMediaData && k > 0) {
          Status s = listener_->OnMediaData(pos_, data + p, k);
          if (!s.ok()) return Fail(s);
        }
        p += k;
        pos_ += k;
        remaining_ -= k;
        if (remaining_ == 0 && !box_.to_end()) {
          Status s = state_ == State::kBuffer ? EndBufferedBox() : state_ == State::kMediaData ? EndMediaData() : Status::Ok();
          if (!s.ok()) return Fail(s);
          state_ = State::kHeader;
          head_len_ = 0;
        }
        break;
      }
    }
  }
  return Status::Ok();
}

Status Mp4StreamReader::StartBox() {
  Cursor c(head_, head_len_);
  uint32_t size32 = 0;
  c.U32(&size32);
  c.U32(&box_.type);
  box_.offset = pos_ - head_len_;
  box_.header_size = head_len_;
  const std::string name = Mp4FourCC(box_.type);
  if (box_.offset == 0 && box_.type != Mp4Type("ftyp") && box_.type != Mp4Type("styp")) {
    return Status::CorruptData("not an MP4 file: it starts with '" + name + "', not 'ftyp'");
  }
  if (size32 == 1) {
    c.U64(&box_.size);
    if (box_.size > kMaxMp4BoxSize) {
      return Status::CorruptData("box '" + name + "'" + At(box_.offset) + " declares a 64-bit size of " +
                                 std::to_string(box_.size) + " bytes, more than any file this reader takes (2^53)");
    }
  } else if (size32 == 0) {
    box_.size = UINT64_MAX;
  } else {
    box_.size = size32;
  }
  if (!box_.to_end() && box_.size < box_.header_size) {
    return Status::CorruptData("box '" + name + "'" + At(box_.offset) + " declares " + std::to_string(box_.size) +
                               " bytes, less than its own " + std::to_string(box_.header_size) + "-byte header");
  }
  Status s = listener_->OnBox(box_);
  if (!s.ok()) return s;
  remaining_ = box_.to_end() ? UINT64_MAX : box_.size - box_.header_size;
  const bool metadata = box_.type == Mp4Type("ftyp") || box_.type == Mp4Type("styp") || box_.type == Mp4Type("moov") ||
                        box_.type == Mp4Type("moof") || box_.type == Mp4Type("mfra");
  if (box_.type == Mp4Type("mdat")) {
    state_ = State::kMediaData;
    if (mdats_.size() >= (1u << 20)) return Status::ResourceExhausted("more than 2^20 mdat boxes");
  } else if (metadata) {
    if (box_.to_end()) return Status::CorruptData("box '" + name + "'" + At(box_.offset) + " has size 0 (to the end of the file)");
    if (remaining_ > kMaxMp4MetadataBox) {
      return Status::ResourceExhausted("box '" + name + "'" + At(box_.offset) + " is " + std::to_string(box_.size) +
                                       " bytes, more than the " + std::to_string(kMaxMp4MetadataBox) +
                                       " a metadata box may have");
    }
    if (box_.type == Mp4Type("moof") && !has_movie_) {
      return Status::CorruptData("a moof" + At(box_.offset) + " comes before the moov");
    }
    if (box_.type == Mp4Type("moof") && fragment_pending_) {
      return Status::CorruptData("the fragment" + At(pending_.moof_offset) + " has no mdat before the next moof" +
                                 At(box_.offset));
    }
    if (box_.type == Mp4Type("moov") && has_movie_) return Status::CorruptData("a second moov" + At(box_.offset));
    state_ = State::kBuffer;
    buffer_.clear();
    buffer_.reserve(size_t(std::min<uint64_t>(remaining_, 1u << 20)));  // grows with what arrives
  } else {
    state_ = State::kSkip;
  }
  if (remaining_ == 0) {
    s = state_ == State::kBuffer ? EndBufferedBox() : state_ == State::kMediaData ? EndMediaData() : Status::Ok();
    if (!s.ok()) return s;
    state_ = State::kHeader;
    head_len_ = 0;
  }
  return Status::Ok();
}

Status Mp4StreamReader::EndBufferedBox() {
  const uint64_t data_offset = box_.data_offset();
  Status s;
  if (box_.type == Mp4Type("ftyp") || box_.type == Mp4Type("styp")) {
    Cursor c(buffer_.data(), buffer_.size());
    uint32_t major = 0, minor = 0;
    if (!c.U32(&major) || !c.U32(&minor)) return Short("ftyp", box_.offset);
    std::vector<uint32_t> compatible;
    for (uint32_t b = 0; c.U32(&b);) compatible.push_back(b);
    if (box_.type == Mp4Type("ftyp")) {
      seen_ftyp_ = true;
      movie_.major_brand = major;
      movie_.compatible_brands = compatible;
    }
    s = listener_->OnFileType(major, compatible);
  } else if (box_.type == Mp4Type("moov")) {
    s = ParseMovie(buffer_.data(), buffer_.size(), data_offset);
  } else if (box_.type == Mp4Type("moof")) {
    s = ParseFragment(buffer_.data(), buffer_.size(), data_offset);
  } else if (box_.type == Mp4Type("mfra")) {
    s = ParseIndex(buffer_.data(), buffer_.size(), data_offset);
  }
  std::vector<uint8_t>().swap(buffer_);
  return s;
}

Status Mp4StreamReader::ParseMovie(const uint8_t* data, size_t size, uint64_t offset) {
  Mp4Movie m;
  m.major_brand = movie_.major_brand;
  m.compatible_brands = movie_.compatible_brands;
  bool seen_mvhd = false;
  std::vector<std::array<uint32_t, 4>> trex;
  Status s = ForEachBox(data, size, offset, "moov", [&](const Child& b) -> Status {
    if (b.type == Mp4Type("mvhd")) {
      Cursor c(b.data, b.size);
      uint8_t v = 0;
      uint32_t f = 0;
      if (!c.Full(&v, &f) || !c.Skip(v == 1 ? 16 : 8) || !c.U32(&m.timescale)) return Short("mvhd", b.offset);
      if (v == 1) {
        if (!c.U64(&m.duration)) return Short("mvhd", b.offset);
      } else {
        uint32_t d = 0;
        if (!c.U32(&d)) return Short("mvhd", b.offset);
        m.duration = d;
      }
      seen_mvhd = true;
      return Status::Ok();
    }
    if (b.type == Mp4Type("trak")) {
      Mp4Track t;
      Status st = ParseTrak(b, &t);
      if (!st.ok()) return st;
      if (m.Find(t.id)) return Status::CorruptData("two tracks with id " + std::to_string(t.id));
      m.tracks.push_back(std::move(t));
      return Status::Ok();
    }
    if (b.type == Mp4Type("mvex")) {
      m.fragmented = true;
      return ForEachBox(b.data, b.size, b.offset + b.header, "mvex", [&](const Child& x) -> Status {
        Cursor c(x.data, x.size);
        uint8_t v = 0;
        uint32_t f = 0;
        if (x.type == Mp4Type("mehd")) {
          if (!c.Full(&v, &f)) return Short("mehd", x.offset);
          uint32_t d32 = 0;
          if (v == 1 ? !c.U64(&m.fragment_duration) : !c.U32(&d32)) return Short("mehd", x.offset);
          if (v != 1) m.fragment_duration = d32;
        } else if (x.type == Mp4Type("trex")) {
          std::array<uint32_t, 4> e{};
          uint32_t index = 0;
          if (!c.Full(&v, &f) || !c.U32(&e[0]) || !c.U32(&index) || !c.U32(&e[1]) || !c.U32(&e[2]) || !c.U32(&e[3])) {
            return Short("trex", x.offset);
          }
          trex.push_back(e);
        }
        return Status::Ok();
      });
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!seen_mvhd) return Status::CorruptData("the moov" + At(offset - 8) + " has no mvhd");
  if (m.tracks.empty()) return Status::CorruptData("the moov" + At(offset - 8) + " has no track");
  for (const auto& e : trex) {
    for (Mp4Track& t : m.tracks) {
      if (t.id == e[0]) {
        t.default_duration = e[1];
        t.default_size = e[2];
        t.default_flags = e[3];
      }
    }
  }
  movie_ = std::move(m);
  has_movie_ = true;
  next_decode_time_.assign(movie_.tracks.size(), 0);
  for (const Mp4Track& t : movie_.tracks) samples_ += t.samples.size();
  return listener_->OnMovie(movie_);
}

Status Mp4StreamReader::ParseFragment(const uint8_t* data, size_t size, uint64_t offset) {
  Mp4Fragment f;
  f.moof_offset = box_.offset;
  f.moof_size = box_.size;
  f.data_begin = UINT64_MAX;
  uint64_t next_data = f.moof_offset;  // implicit base of a traf without base-data-offset
  bool first_traf = true;
  Status s = ForEachBox(data, size, offset, "moof", [&](const Child& b) -> Status {
    if (b.type == Mp4Type("mfhd")) {
      Cursor c(b.data, b.size);
      uint8_t v = 0;
      uint32_t fl = 0;
      if (!c.Full(&v, &fl) || !c.U32(&f.sequence)) return Short("mfhd", b.offset);
      return Status::Ok();
    }
    if (b.type != Mp4Type("traf")) return Status::Ok();
    Mp4TrackRun run;
    const Mp4Track* track = nullptr;
    size_t track_index = 0;
    uint32_t def_duration = 0, def_size = 0, def_flags = 0;
    uint64_t base = 0;
    bool have_tfhd = false, have_tfdt = false;
    uint64_t decode = 0;
    uint64_t data_at = 0;
    Status st = ForEachBox(b.data, b.size, b.offset + b.header, "traf", [&](const Child& x) -> Status {
      Cursor c(x.data, x.size);
      uint8_t v = 0;
      uint32_t fl = 0;
      if (x.type == Mp4Type("tfhd")) {
        if (!c.Full(&v, &fl) || !c.U32(&run.track_id)) return Short("tfhd", x.offset);
        for (size_t i = 0; i < movie_.tracks.size(); ++i) {
          if (movie_.tracks[i].id == run.track_id) {
            track = &movie_.tracks[i];
            track_index = i;
          }
        }
        if (!track) {
          return Status::CorruptData("the traf" + At(b.offset) + " is for track " + std::to_string(run.track_id) +
                                     ", which the moov does not have");
        }
        def_duration = track->default_duration;
        def_size = track->default_size;
        def_flags = track->default_flags;
        base = (fl & 0x1) ? 0 : (fl & 0x20000) ? f.moof_offset : (first_traf ? f.moof_offset : next_data);
        uint32_t index = 0;
        if ((fl & 0x1) && !c.U64(&base)) return Short("tfhd", x.offset);
        if ((fl & 0x2) && !c.U32(&index)) return Short("tfhd", x.offset);
        if ((fl & 0x8) && !c.U32(&def_duration)) return Short("tfhd", x.offset);
        if ((fl & 0x10) && !c.U32(&def_size)) return Short("tfhd", x.offset);
        if ((fl & 0x20) && !c.U32(&def_flags)) return Short("tfhd", x.offset);
        have_tfhd = true;
        data_at = base;
        decode = next_decode_time_[track_index];
        return Status::Ok();
      }
      if (!have_tfhd && (x.type == Mp4Type("tfdt") || x.type == Mp4Type("trun"))) {
        return Status::CorruptData("box '" + Mp4FourCC(x.type) + "'" + At(x.offset) + " comes before its traf's tfhd");
      }
      if (x.type == Mp4Type("tfdt")) {
        if (!c.Full(&v, &fl)) return Short("tfdt", x.offset);
        if (v == 1) {
          if (!c.U64(&decode)) return Short("tfdt", x.offset);
        } else {
          uint32_t d = 0;
          if (!c.U32(&d)) return Short("tfdt", x.offset);
          decode = d;
        }
        have_tfdt = true;
        return Status::Ok();
      }
      if (x.type == Mp4Type("trun")) {
        uint32_t count = 0;
        if (!c.Full(&v, &fl) || !c.U32(&count)) return Short("trun", x.offset);
        uint32_t data_offset = 0, first_flags = 0;
        if ((fl & 0x1) && !c.U32(&data_offset)) return Short("trun", x.offset);
        if ((fl & 0x4) && !c.U32(&first_flags)) return Short("trun", x.offset);
        const size_t per = size_t(((fl & 0x100) ? 4 : 0) + ((fl & 0x200) ? 4 : 0) + ((fl & 0x400) ? 4 : 0) + ((fl & 0x800) ? 4 : 0));
        if (uint64_t(count) * per > c.left() || (per == 0 && count > kMaxMp4Samples)) {
          return Status::CorruptData("box 'trun'" + At(x.offset) + " declares " + std::to_string(count) +
                                     " samples, more than it holds");
        }
        if (fl & 0x1) data_at = base + uint64_t(int64_t(int32_t(data_offset)));
        for (uint32_t i = 0; i < count; ++i) {
          Mp4Sample smp;
          uint32_t sflags = def_flags, cto = 0;
          smp.duration = def_duration;
          smp.size = def_size;
          if (fl & 0x100) c.U32(&smp.duration);
          if (fl & 0x200) c.U32(&smp.size);
          if (fl & 0x400) c.U32(&sflags);
          if (fl & 0x800) c.U32(&cto);
          if (i == 0 && (fl & 0x4)) sflags = first_flags;
          smp.composition_offset = int32_t(cto);
          smp.sync = !(sflags & 0x10000);
          smp.offset = data_at;
          smp.decode_time = decode;
          if (data_at > kMaxMp4BoxSize || smp.size > kMaxMp4BoxSize - data_at) {
            return Status::CorruptData("box 'trun'" + At(x.offset) + " places a sample past any file");
          }
          data_at += smp.size;
          decode += smp.duration;
          if (smp.size) {
            f.data_begin = std::min(f.data_begin, smp.offset);
            f.data_end = std::max(f.data_end, data_at);
          }
          run.samples.push_back(smp);
        }
        return Status::Ok();
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (!have_tfhd) return Status::CorruptData("the traf" + At(b.offset) + " has no tfhd");
    (void)have_tfdt;
    next_decode_time_[track_index] = decode;
    next_data = data_at;
    first_traf = false;
    f.runs.push_back(std::move(run));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (f.data_begin == UINT64_MAX) f.data_begin = f.data_end = 0;
  ++fragments_;
  if (f.data_end > f.data_begin) {
    if (f.data_begin < f.moof_offset + f.moof_size) {
      return Status::CorruptData("the fragment" + At(f.moof_offset) + " places samples at byte " +
                                 std::to_string(f.data_begin) + ", before the mdat that must follow it");
    }
    fragment_pending_ = true;
  } else {
    ++complete_fragments_;
  }
  pending_ = f;
  return listener_->OnFragment(pending_);
}

Status Mp4StreamReader::CheckPendingFragment(uint64_t mdat_begin, uint64_t mdat_end) {
  if (!fragment_pending_) return Status::Ok();
  if (pending_.data_begin < mdat_begin || pending_.data_end > mdat_end) {
    return Status::CorruptData("the fragment" + At(pending_.moof_offset) + " places samples at bytes [" +
                               std::to_string(pending_.data_begin) + ", " + std::to_string(pending_.data_end) +
                               "), outside the mdat after it [" + std::to_string(mdat_begin) + ", " +
                               std::to_string(mdat_end) + ")");
  }
  fragment_pending_ = false;
  ++complete_fragments_;
  for (const Mp4TrackRun& r : pending_.runs) samples_ += r.samples.size();
  return Status::Ok();
}

Status Mp4StreamReader::EndMediaData() {
  const uint64_t begin = box_.data_offset();
  const uint64_t end = box_.to_end() ? pos_ : box_.offset + box_.size;
  mdats_.emplace_back(begin, end);
  return CheckPendingFragment(begin, end);
}

Status Mp4StreamReader::ParseIndex(const uint8_t* data, size_t size, uint64_t offset) {
  std::vector<Mp4IndexEntry> entries;
  Status s = ForEachBox(data, size, offset, "mfra", [&](const Child& b) -> Status {
    if (b.type != Mp4Type("tfra")) return Status::Ok();
    Cursor c(b.data, b.size);
    uint8_t v = 0;
    uint32_t fl = 0, id = 0, lengths = 0, n = 0;
    if (!c.Full(&v, &fl) || !c.U32(&id) || !c.U32(&lengths) || !c.U32(&n)) return Short("tfra", b.offset);
    const size_t per = (v == 1 ? 16 : 8) + ((lengths >> 4) & 3) + 1 + ((lengths >> 2) & 3) + 1 + (lengths & 3) + 1;
    if (uint64_t(n) * per > c.left()) {
      return Status::CorruptData("box 'tfra'" + At(b.offset) + " declares " + std::to_string(n) +
                                 " entries but holds " + std::to_string(c.left() / per));
    }
    for (uint32_t i = 0; i < n; ++i) {
      Mp4IndexEntry e;
      e.track_id = id;
      if (v == 1) {
        c.U64(&e.time);
        c.U64(&e.moof_offset);
      } else {
        uint32_t t = 0, o = 0;
        c.U32(&t);
        c.U32(&o);
        e.time = t;
        e.moof_offset = o;
      }
      c.Skip(per - (v == 1 ? 16 : 8));
      if (e.moof_offset >= box_.offset) {
        return Status::CorruptData("box 'tfra'" + At(b.offset) + " points at byte " + std::to_string(e.moof_offset) +
                                   ", not before the mfra");
      }
      entries.push_back(e);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return listener_->OnIndex(entries);
}

Status Mp4StreamReader::CheckMovieSamples() {
  std::vector<std::pair<uint64_t, uint64_t>> m = mdats_;
  std::sort(m.begin(), m.end());
  for (const Mp4Track& t : movie_.tracks) {
    for (size_t i = 0; i < t.samples.size(); ++i) {
      const Mp4Sample& s = t.samples[i];
      if (s.size == 0) continue;
      auto it = std::upper_bound(m.begin(), m.end(), std::make_pair(s.offset, UINT64_MAX));
      const bool inside = it != m.begin() && s.offset >= std::prev(it)->first && s.offset + s.size <= std::prev(it)->second;
      if (inside) continue;
      if (s.offset + s.size > pos_) {
        truncated_ = true;
        partial_offset_ = s.offset;
        return Status::CorruptData("truncated: sample " + std::to_string(i + 1) + " of track " + std::to_string(t.id) +
                                   " ends at byte " + std::to_string(s.offset + s.size) + ", past the end of the input (" +
                                   std::to_string(pos_) + " bytes)");
      }
      return Status::CorruptData("the moov's sample tables of track " + std::to_string(t.id) + " disagree with the file: sample " +
                                 std::to_string(i + 1) + " at bytes [" + std::to_string(s.offset) + ", " +
                                 std::to_string(s.offset + s.size) + ") is outside every mdat");
    }
  }
  return Status::Ok();
}

Status Mp4StreamReader::Finish() {
  if (failed_) return error_;
  if (finished_) return Status::Ok();
  finished_ = true;
  if (state_ == State::kMediaData && box_.to_end()) {
    Status s = EndMediaData();
    if (!s.ok()) return Fail(s);
    state_ = State::kHeader;
    head_len_ = 0;
  } else if (state_ == State::kSkip && box_.to_end()) {
    state_ = State::kHeader;
    head_len_ = 0;
  }
  if (state_ != State::kHeader || head_len_ != 0) {
    truncated_ = true;
    partial_offset_ = state_ == State::kHeader ? pos_ - head_len_ : box_.offset;
    std::string what = state_ == State::kHeader ? "a box header" : "box '" + Mp4FourCC(box_.type) + "'";
    std::string msg = "truncated: " + what + At(partial_offset_);
    if (state_ != State::kHeader) {
      msg += " declares " + std::to_string(box_.size) + " bytes but the input ends " + std::to_string(remaining_) +
             " bytes short of it";
    }
    if (fragments_) msg += " (" + std::to_string(complete_fragments_) + " of " + std::to_string(fragments_) + " fragments complete)";
    return Fail(Status::CorruptData(msg));
  }
  if (!seen_ftyp_) return Fail(Status::CorruptData("not an MP4 file: no 'ftyp' box"));
  if (!has_movie_) return Fail(Status::CorruptData("no moov box in " + std::to_string(pos_) + " bytes"));
  if (fragment_pending_) {
    truncated_ = true;
    partial_offset_ = pending_.moof_offset;
    return Fail(Status::CorruptData("truncated: the fragment" + At(pending_.moof_offset) + " has no mdat after it"));
  }
  Status s = CheckMovieSamples();
  if (!s.ok()) return Fail(s);
  return Status::Ok();
}

}  // namespace ck
