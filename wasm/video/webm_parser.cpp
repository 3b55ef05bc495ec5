#include "video/webm_parser.h"

#include <algorithm>
#include <cstring>

namespace ck {
namespace {

using namespace webm_id;

std::string Hex(uint64_t v) {
  static const char* digits = "0123456789ABCDEF";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 15]);
    v >>= 4;
  } while (v);
  return "0x" + s;
}

int VintLength(uint8_t first) {
  if (first == 0) return 0;
  int n = 1;
  for (uint8_t mask = 0x80; !(first & mask); mask >>= 1) ++n;
  return n;
}

// Which IDs an unknown-size element may contain: any other ID ends it.
bool IsChildOf(uint32_t parent, uint32_t id) {
  switch (parent) {
    case kSegment:
      return id != kEbml && id != kSegment;
    case kCluster:
      switch (id) {
        case kTimecode: case kSilentTracks: case kPosition: case kPrevSize: case kSimpleBlock:
        case kBlockGroup: case kEncryptedBlock: case kVoid: case kCrc32:
          return true;
        default:
          return false;
      }
    default:
      return false;
  }
}

// Small leaves inside Clusters and BlockGroups whose value a reader needs.
bool IsSmallLeaf(uint32_t parent, uint32_t id) {
  if (parent == kCluster) return id == kTimecode || id == kPosition || id == kPrevSize;
  if (parent == kBlockGroup) return id == kBlockDuration || id == kReferenceBlock;
  return false;
}

std::string Describe(const EbmlElement& e) {
  return WebmElementName(e.id) + " at byte " + std::to_string(e.offset);
}

const char* SignatureHint(const uint8_t* d, size_t n) {
  if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) return " (it looks like a PNG image)";
  if (n >= 3 && !memcmp(d, "\xFF\xD8\xFF", 3)) return " (it looks like a JPEG image)";
  if (n >= 8 && !memcmp(d + 4, "ftyp", 4)) return " (it looks like an MP4/QuickTime file)";
  if (n >= 4 && !memcmp(d, "OggS", 4)) return " (it looks like an Ogg file)";
  if (n >= 4 && !memcmp(d, "RIFF", 4)) return " (it looks like a RIFF/WAV/AVI file)";
  if (n >= 4 && !memcmp(d, "GIF8", 4)) return " (it looks like a GIF image)";
  return "";
}

}  // namespace

std::string WebmElementName(uint32_t id) {
  switch (id) {
    case kEbml: return "EBML header";
    case kVoid: return "Void";
    case kCrc32: return "CRC-32";
    case kSegment: return "Segment";
    case kSeekHead: return "SeekHead";
    case kInfo: return "Info";
    case kTracks: return "Tracks";
    case kCluster: return "Cluster";
    case kTimecode: return "Timecode";
    case kPosition: return "Position";
    case kPrevSize: return "PrevSize";
    case kSimpleBlock: return "SimpleBlock";
    case kBlockGroup: return "BlockGroup";
    case kBlock: return "Block";
    case kBlockDuration: return "BlockDuration";
    case kReferenceBlock: return "ReferenceBlock";
    case kCues: return "Cues";
    case kTags: return "Tags";
    case kChapters: return "Chapters";
    case kAttachments: return "Attachments";
    default: return "element " + Hex(id);
  }
}

int ReadEbmlId(const uint8_t* data, size_t size, uint32_t* id) {
  if (size == 0) return 0;
  int n = VintLength(data[0]);
  if (n == 0 || n > 4) return -1;
  if (size < size_t(n)) return 0;
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | data[i];
  uint32_t mask = (1u << (7 * n)) - 1;
  if ((v & mask) == 0 || (v & mask) == mask) return -1;
  *id = v;
  return n;
}

int ReadEbmlSize(const uint8_t* data, size_t size, uint64_t* value) {
  if (size == 0) return 0;
  int n = VintLength(data[0]);
  if (n == 0) return -1;
  if (size < size_t(n)) return 0;
  uint64_t v = data[0] & (0xFF >> n);
  for (int i = 1; i < n; ++i) v = (v << 8) | data[i];
  *value = v == (uint64_t(1) << (7 * n)) - 1 ? kEbmlUnknownSize : v;
  return n;
}

bool ReadEbmlUint(const uint8_t* data, size_t size, uint64_t* out) {
  if (size > 8) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) v = (v << 8) | data[i];
  *out = v;
  return true;
}

bool ReadEbmlInt(const uint8_t* data, size_t size, int64_t* out) {
  uint64_t v = 0;
  if (!ReadEbmlUint(data, size, &v)) return false;
  if (size > 0 && size < 8 && (data[0] & 0x80)) v |= ~uint64_t(0) << (8 * size);
  *out = int64_t(v);
  return true;
}

bool ReadEbmlFloat(const uint8_t* data, size_t size, double* out) {
  uint64_t v = 0;
  if (size == 0) {
    *out = 0;
    return true;
  }
  if ((size != 4 && size != 8) || !ReadEbmlUint(data, size, &v)) return false;
  if (size == 4) {
    uint32_t u = uint32_t(v);
    float f;
    memcpy(&f, &u, 4);
    *out = f;
  } else {
    memcpy(out, &v, 8);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------

Status WebmStreamParser::Fail(Status s) {
  if (!failed_) {
    failed_ = true;
    error_ = std::move(s);
  }
  return error_;
}

Status WebmStreamParser::NotWebm() const {
  return Status::CorruptData(std::string("not a WebM/Matroska file: it does not start with an EBML header") +
                             SignatureHint(vint_, size_t(vint_len_)));
}

Status WebmStreamParser::CloseFinished() {
  // The outermost known-size element ending here closes everything inside it.
  for (size_t i = 0; i < stack_.size(); ++i) {
    const EbmlElement& e = stack_[i];
    if (!e.unknown_size() && e.end() == pos_) {
      while (stack_.size() > i) {
        EbmlElement top = stack_.back();
        stack_.pop_back();
        Status s = listener_->OnElementEnd(top, pos_);
        if (!s.ok()) return s;
      }
      break;
    }
  }
  return Status::Ok();
}

Status WebmStreamParser::CloseForSibling(uint32_t id) {
  while (!stack_.empty() && stack_.back().unknown_size() && !IsChildOf(stack_.back().id, id)) {
    EbmlElement top = stack_.back();
    stack_.pop_back();
    Status s = listener_->OnElementEnd(top, cur_.offset);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status WebmStreamParser::StartElement() {
  Status s = CloseForSibling(cur_.id);
  if (!s.ok()) return s;
  const EbmlElement* parent = stack_.empty() ? nullptr : &stack_.back();
  cur_.depth = int(stack_.size());
  const uint32_t id = cur_.id;

  if (!parent && id != kEbml && id != kSegment && id != kVoid) {
    if (cur_.offset == 0) {
      return Status::CorruptData("not a WebM/Matroska file: it does not start with an EBML header");
    }
    return Status::CorruptData("unexpected " + Describe(cur_) + " outside the Segment");
  }
  if (cur_.unknown_size()) {
    if (id != kSegment && id != kCluster) {
      return Status::CorruptData(Describe(cur_) + " has an unknown size (only a Segment or a Cluster may)");
    }
  } else if (parent && !parent->unknown_size() && cur_.end() > parent->end()) {
    return Status::CorruptData(Describe(cur_) + " (" + std::to_string(cur_.size) + " bytes) extends past the end of its " +
                               Describe(*parent) + " at byte " + std::to_string(parent->end()));
  }
  s = listener_->OnElementStart(cur_);
  if (!s.ok()) return s;

  const uint32_t parent_id = parent ? parent->id : 0;
  const bool master = (id == kSegment && !parent) || (id == kCluster && parent_id == kSegment) ||
                      (id == kBlockGroup && parent_id == kCluster);
  if (master) {
    if (stack_.size() >= 8) return Status::CorruptData("elements nested too deeply at byte " + std::to_string(cur_.offset));
    stack_.push_back(cur_);
    state_ = State::kId;
    vint_len_ = 0;
    return Status::Ok();
  }
  remaining_ = cur_.size;
  if ((id == kSimpleBlock && parent_id == kCluster) || (id == kBlock && parent_id == kBlockGroup)) {
    if (cur_.size < 4) return Status::CorruptData(Describe(cur_) + " is too short (" + std::to_string(cur_.size) + " bytes)");
    block_head_len_ = 0;
    block_ = WebmBlockHeader();
    state_ = State::kBlockHeader;
    return Status::Ok();
  }
  const bool big = (id == kEbml && !parent) || ((id == kInfo || id == kTracks) && parent_id == kSegment);
  if (big || IsSmallLeaf(parent_id, id)) {
    const uint64_t limit = big ? kMaxBufferedElement : 8;
    if (cur_.size > limit) {
      return Status::CorruptData(Describe(cur_) + " has " + std::to_string(cur_.size) + " bytes, more than the " +
                                 std::to_string(limit) + " allowed");
    }
    buffer_.clear();
    buffer_.reserve(size_t(cur_.size));
    state_ = State::kBuffer;
    return Status::Ok();
  }
  state_ = State::kSkip;
  return Status::Ok();
}

Status WebmStreamParser::EndLeaf() {
  state_ = State::kId;
  vint_len_ = 0;
  if (buffer_.capacity() > (1u << 20)) std::vector<uint8_t>().swap(buffer_);
  return listener_->OnElementEnd(cur_, pos_);
}

Status WebmStreamParser::ParseBlockHeader(bool* done) {
  *done = false;
  const int n = VintLength(block_head_[0]);
  if (n == 0 || n > 8) return Status::CorruptData(Describe(cur_) + " has an invalid track number");
  uint32_t need = uint32_t(n) + 3;
  if (block_head_len_ >= need) {
    const uint8_t flags = block_head_[n + 2];
    const int lacing = (flags >> 1) & 3;
    if (lacing) ++need;
    if (block_head_len_ >= need) {
      uint64_t track = 0;
      ReadEbmlSize(block_head_, block_head_len_, &track);
      if (track == 0 || track == kEbmlUnknownSize) return Status::CorruptData(Describe(cur_) + " has an invalid track number");
      block_.track = track;
      block_.timecode = int16_t(uint16_t(block_head_[n] << 8 | block_head_[n + 1]));
      block_.keyframe = cur_.id == kSimpleBlock && (flags & 0x80);
      block_.invisible = flags & 0x08;
      block_.discardable = cur_.id == kSimpleBlock && (flags & 0x01);
      block_.lacing = lacing;
      block_.frames = lacing ? block_head_[n + 3] + 1 : 1;
      block_.header_size = need;
      block_.payload_size = cur_.size - need;
      *done = true;
      return Status::Ok();
    }
  }
  if (remaining_ == 0) return Status::CorruptData(Describe(cur_) + " is shorter than its own header");
  return Status::Ok();
}

Status WebmStreamParser::Feed(const uint8_t* data, size_t size) {
  if (failed_) return error_;
  if (finished_) return Fail(Status::FailedPrecondition("WebmStreamParser: Feed() after Finish()"));
  size_t i = 0;
  for (;;) {
    switch (state_) {
      case State::kId: {
        if (vint_len_ == 0) {
          Status s = CloseFinished();
          if (!s.ok()) return Fail(s);
          if (i == size) return Status::Ok();
          vint_need_ = VintLength(data[i]);
          if (pos_ == 0 && data[i] != 0x1A) {  // not EBML: read a few bytes to say what it looks like
            state_ = State::kReject;
            break;
          }
          if (vint_need_ == 0 || vint_need_ > 4) {
            return Fail(Status::CorruptData("invalid element ID at byte " + std::to_string(pos_)));
          }
          cur_ = EbmlElement();
          cur_.offset = pos_;
        }
        while (vint_len_ < vint_need_ && i < size) {
          vint_[vint_len_++] = data[i++];
          ++pos_;
        }
        if (vint_len_ < vint_need_) return Status::Ok();
        if (ReadEbmlId(vint_, size_t(vint_len_), &cur_.id) <= 0 || (cur_.offset == 0 && cur_.id != kEbml)) {
          if (cur_.offset == 0) {
            return Fail(Status::CorruptData("not a WebM/Matroska file: it does not start with an EBML header"));
          }
          return Fail(Status::CorruptData("invalid element ID at byte " + std::to_string(cur_.offset)));
        }
        cur_.header_size = uint32_t(vint_len_);
        vint_len_ = 0;
        state_ = State::kSize;
        break;
      }
      case State::kSize: {
        if (i == size) return Status::Ok();
        if (vint_len_ == 0) {
          vint_need_ = VintLength(data[i]);
          if (vint_need_ == 0) {
            return Fail(Status::CorruptData("invalid size of " + Describe(cur_)));
          }
        }
        while (vint_len_ < vint_need_ && i < size) {
          vint_[vint_len_++] = data[i++];
          ++pos_;
        }
        if (vint_len_ < vint_need_) return Status::Ok();
        ReadEbmlSize(vint_, size_t(vint_len_), &cur_.size);
        cur_.header_size += uint32_t(vint_len_);
        vint_len_ = 0;
        Status s = StartElement();
        if (!s.ok()) return Fail(s);
        break;
      }
      case State::kReject: {
        while (i < size && vint_len_ < 8) {
          vint_[vint_len_++] = data[i++];
          ++pos_;
        }
        if (vint_len_ < 8) return Status::Ok();
        return Fail(NotWebm());
      }
      case State::kBuffer: {
        size_t take = size_t(std::min<uint64_t>(remaining_, size - i));
        buffer_.insert(buffer_.end(), data + i, data + i + take);
        i += take;
        pos_ += take;
        remaining_ -= take;
        if (remaining_ > 0) return Status::Ok();
        Status s = listener_->OnElementData(cur_, buffer_.data(), buffer_.size());
        if (s.ok()) s = EndLeaf();
        if (!s.ok()) return Fail(s);
        break;
      }
      case State::kSkip: {
        size_t take = size_t(std::min<uint64_t>(remaining_, size - i));
        i += take;
        pos_ += take;
        remaining_ -= take;
        if (remaining_ > 0) return Status::Ok();
        Status s = EndLeaf();
        if (!s.ok()) return Fail(s);
        break;
      }
      case State::kBlockHeader: {
        bool done = false;
        while (!done) {
          if (i == size) return Status::Ok();
          block_head_[block_head_len_++] = data[i++];
          ++pos_;
          --remaining_;
          Status s = ParseBlockHeader(&done);
          if (!s.ok()) return Fail(s);
        }
        Status s = listener_->OnBlock(cur_, block_);
        if (!s.ok()) return Fail(s);
        state_ = State::kBlockData;
        break;
      }
      case State::kBlockData: {
        size_t take = size_t(std::min<uint64_t>(remaining_, size - i));
        if (take > 0) {
          Status s = listener_->OnBlockData(data + i, take);
          if (!s.ok()) return Fail(s);
        }
        i += take;
        pos_ += take;
        remaining_ -= take;
        if (remaining_ > 0) return Status::Ok();
        Status s = EndLeaf();
        if (!s.ok()) return Fail(s);
        break;
      }
    }
  }
}

Status WebmStreamParser::Finish() {
  if (failed_) return error_;
  if (finished_) return Status::Ok();
  finished_ = true;
  if (pos_ == 0) return Fail(Status::CorruptData("the input is empty (0 bytes)"));
  if (state_ == State::kReject) return Fail(NotWebm());

  // The outermost open BlockGroup, if any: a partial element inside it makes the whole group partial.
  const EbmlElement* group = nullptr;
  for (const EbmlElement& e : stack_) {
    if (e.id == kBlockGroup) {
      group = &e;
      break;
    }
  }
  const bool mid_element = !(state_ == State::kId && vint_len_ == 0);
  if (mid_element || group) {
    truncated_ = true;
    partial_offset_ = group ? group->offset : cur_.offset;
    std::string where;
    if (mid_element && (state_ == State::kId || state_ == State::kSize)) {
      where = "in the header of the element at byte " + std::to_string(cur_.offset);
    } else if (mid_element) {
      where = "inside " + Describe(cur_) + ", which needs " + std::to_string(remaining_) + " more bytes";
    } else {
      where = "inside " + Describe(*group) + ", which needs " + std::to_string(group->end() - pos_) + " more bytes";
    }
    return Fail(Status::CorruptData("the input is truncated: it ends at byte " + std::to_string(pos_) + " " + where));
  }
  for (const EbmlElement& e : stack_) {
    if (!e.unknown_size()) {
      truncated_ = true;
      partial_offset_ = pos_;
      return Fail(Status::CorruptData("the input is truncated: it ends at byte " + std::to_string(pos_) + " inside " +
                                      Describe(e) + ", which declares " + std::to_string(e.size) + " bytes"));
    }
  }
  while (!stack_.empty()) {
    EbmlElement top = stack_.back();
    stack_.pop_back();
    Status s = listener_->OnElementEnd(top, pos_);
    if (!s.ok()) return Fail(s);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------

namespace {
std::string AsString(const uint8_t* d, size_t n) {
  std::string s(reinterpret_cast<const char*>(d), n);
  size_t z = s.find('\0');
  if (z != std::string::npos) s.resize(z);
  return s;
}
Status BadValue(const char* what) { return Status::CorruptData(std::string("invalid ") + what + " value"); }
}  // namespace

Status ParseEbmlHeader(const uint8_t* data, size_t size, WebmEbmlHeader* out) {
  *out = WebmEbmlHeader();
  bool has_doc_type = false;
  Status s = ForEachChild(data, size, 0, [&](uint32_t id, const uint8_t* d, size_t n) -> Status {
    uint64_t v = 0;
    switch (id) {
      case kDocType:
        out->doc_type = AsString(d, n);
        has_doc_type = true;
        break;
      case kDocTypeVersion:
        if (!ReadEbmlUint(d, n, &out->doc_type_version)) return BadValue("DocTypeVersion");
        break;
      case kEbmlReadVersion:
        if (!ReadEbmlUint(d, n, &v) || v > 1) return Status::CorruptData("unsupported EBMLReadVersion");
        break;
      case kEbmlMaxIdLength:
        if (!ReadEbmlUint(d, n, &v) || v > 4) return Status::CorruptData("unsupported EBMLMaxIDLength");
        break;
      case kEbmlMaxSizeLength:
        if (!ReadEbmlUint(d, n, &v) || v > 8) return Status::CorruptData("unsupported EBMLMaxSizeLength");
        break;
      default:
        break;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!has_doc_type) return Status::CorruptData("the EBML header has no DocType");
  if (out->doc_type != "webm" && out->doc_type != "matroska") {
    return Status::CorruptData("not a WebM/Matroska file: its DocType is \"" + out->doc_type + "\"");
  }
  return Status::Ok();
}

Status ParseInfo(const uint8_t* data, size_t size, WebmInfo* out) {
  *out = WebmInfo();
  Status s = ForEachChild(data, size, 0, [&](uint32_t id, const uint8_t* d, size_t n) -> Status {
    switch (id) {
      case kTimecodeScale:
        if (!ReadEbmlUint(d, n, &out->timecode_scale) || out->timecode_scale == 0) return BadValue("TimecodeScale");
        break;
      case kDuration:
        if (!ReadEbmlFloat(d, n, &out->duration)) return BadValue("Duration");
        break;
      case kMuxingApp:
        out->muxing_app = AsString(d, n);
        break;
      case kWritingApp:
        out->writing_app = AsString(d, n);
        break;
      default:
        break;
    }
    return Status::Ok();
  });
  return s;
}

Status ParseTracks(const uint8_t* data, size_t size, std::vector<WebmTrack>* out) {
  out->clear();
  return ForEachChild(data, size, 0, [&](uint32_t id, const uint8_t* d, size_t n) -> Status {
    if (id != kTrackEntry) return Status::Ok();
    if (out->size() >= 256) return Status::CorruptData("more than 256 tracks");
    WebmTrack t;
    Status s = ForEachChild(d, n, 0, [&](uint32_t cid, const uint8_t* cd, size_t cn) -> Status {
      switch (cid) {
        case kTrackNumber:
          if (!ReadEbmlUint(cd, cn, &t.number)) return BadValue("TrackNumber");
          break;
        case kTrackUid:
          if (!ReadEbmlUint(cd, cn, &t.uid)) return BadValue("TrackUID");
          break;
        case kTrackType:
          if (!ReadEbmlUint(cd, cn, &t.type)) return BadValue("TrackType");
          break;
        case kCodecId:
          t.codec_id = AsString(cd, cn);
          break;
        case kCodecPrivate:
          t.codec_private.assign(cd, cd + cn);
          break;
        case kDefaultDuration:
          if (!ReadEbmlUint(cd, cn, &t.default_duration_ns)) return BadValue("DefaultDuration");
          break;
        case kContentEncodings:
          t.content_encoded = true;
          break;
        case kVideo:
          return ForEachChild(cd, cn, 0, [&](uint32_t vid, const uint8_t* vd, size_t vn) -> Status {
            if (vid == kPixelWidth && !ReadEbmlUint(vd, vn, &t.width)) return BadValue("PixelWidth");
            if (vid == kPixelHeight && !ReadEbmlUint(vd, vn, &t.height)) return BadValue("PixelHeight");
            return Status::Ok();
          });
        case kAudio:
          return ForEachChild(cd, cn, 0, [&](uint32_t aid, const uint8_t* ad, size_t an) -> Status {
            if (aid == kSamplingFrequency && !ReadEbmlFloat(ad, an, &t.sampling_frequency)) return BadValue("SamplingFrequency");
            if (aid == kChannels && !ReadEbmlUint(ad, an, &t.channels)) return BadValue("Channels");
            return Status::Ok();
          });
        default:
          break;
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    if (t.number == 0) return Status::CorruptData("a TrackEntry has no TrackNumber");
    for (const WebmTrack& o : *out) {
      if (o.number == t.number) return Status::CorruptData("two tracks have the number " + std::to_string(t.number));
    }
    out->push_back(std::move(t));
    return Status::Ok();
  });
}

}  // namespace ck
