// Streaming (push) parser for WebM / Matroska: feed it bytes split anywhere (one byte at a time works),
// it reports elements as they start and end, hands over the whole payload of the few small elements a
// reader needs (EBML header, Info, Tracks, Timecode, BlockDuration, ...), parses SimpleBlock/Block
// headers and forwards block payloads as views of the fed buffer (no copy). It never holds more than
// one buffered element (bounded by kMaxBufferedElement), so memory does not grow with the input.
//
// Sizes and offsets are 64-bit (files over 4 GB). Unknown-size Segments and Clusters (what live
// muxers and MediaRecorder write) end at the first element that cannot be their child.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ck {

// Element IDs (with their length marker bits, as written in the file).
namespace webm_id {
constexpr uint32_t kEbml = 0x1A45DFA3;
constexpr uint32_t kEbmlVersion = 0x4286;
constexpr uint32_t kEbmlReadVersion = 0x42F7;
constexpr uint32_t kEbmlMaxIdLength = 0x42F2;
constexpr uint32_t kEbmlMaxSizeLength = 0x42F3;
constexpr uint32_t kDocType = 0x4282;
constexpr uint32_t kDocTypeVersion = 0x4287;
constexpr uint32_t kDocTypeReadVersion = 0x4285;
constexpr uint32_t kVoid = 0xEC;
constexpr uint32_t kCrc32 = 0xBF;
constexpr uint32_t kSegment = 0x18538067;
constexpr uint32_t kSeekHead = 0x114D9B74;
constexpr uint32_t kSeek = 0x4DBB;
constexpr uint32_t kSeekId = 0x53AB;
constexpr uint32_t kSeekPosition = 0x53AC;
constexpr uint32_t kInfo = 0x1549A966;
constexpr uint32_t kTimecodeScale = 0x2AD7B1;
constexpr uint32_t kDuration = 0x4489;
constexpr uint32_t kMuxingApp = 0x4D80;
constexpr uint32_t kWritingApp = 0x5741;
constexpr uint32_t kTracks = 0x1654AE6B;
constexpr uint32_t kTrackEntry = 0xAE;
constexpr uint32_t kTrackNumber = 0xD7;
constexpr uint32_t kTrackUid = 0x73C5;
constexpr uint32_t kTrackType = 0x83;
constexpr uint32_t kCodecId = 0x86;
constexpr uint32_t kCodecPrivate = 0x63A2;
constexpr uint32_t kDefaultDuration = 0x23E383;
constexpr uint32_t kContentEncodings = 0x6D80;
constexpr uint32_t kVideo = 0xE0;
constexpr uint32_t kPixelWidth = 0xB0;
constexpr uint32_t kPixelHeight = 0xBA;
constexpr uint32_t kAudio = 0xE1;
constexpr uint32_t kSamplingFrequency = 0xB5;
constexpr uint32_t kChannels = 0x9F;
constexpr uint32_t kCluster = 0x1F43B675;
constexpr uint32_t kTimecode = 0xE7;
constexpr uint32_t kSilentTracks = 0x5854;
constexpr uint32_t kPosition = 0xA7;
constexpr uint32_t kPrevSize = 0xAB;
constexpr uint32_t kSimpleBlock = 0xA3;
constexpr uint32_t kBlockGroup = 0xA0;
constexpr uint32_t kBlock = 0xA1;
constexpr uint32_t kBlockDuration = 0x9B;
constexpr uint32_t kReferenceBlock = 0xFB;
constexpr uint32_t kEncryptedBlock = 0xAF;
constexpr uint32_t kCues = 0x1C53BB6B;
constexpr uint32_t kCuePoint = 0xBB;
constexpr uint32_t kCueTime = 0xB3;
constexpr uint32_t kCueTrackPositions = 0xB7;
constexpr uint32_t kCueTrack = 0xF7;
constexpr uint32_t kCueClusterPosition = 0xF1;
constexpr uint32_t kCueRelativePosition = 0xF0;
constexpr uint32_t kTags = 0x1254C367;
constexpr uint32_t kChapters = 0x1043A770;
constexpr uint32_t kAttachments = 0x1941A469;
}  // namespace webm_id

// The value of an unknown ("live") element size.
constexpr uint64_t kEbmlUnknownSize = UINT64_MAX;
// The largest element whose payload the parser buffers (Info, Tracks, the EBML header).
constexpr uint64_t kMaxBufferedElement = 16u << 20;

// "Cluster", "SimpleBlock", ... or "element 0x1234" for an ID the parser does not know.
std::string WebmElementName(uint32_t id);

struct EbmlElement {
  uint32_t id = 0;
  uint64_t offset = 0;       // absolute offset of the element's first ID byte
  uint32_t header_size = 0;  // bytes of ID + size
  uint64_t size = 0;         // payload bytes, or kEbmlUnknownSize
  int depth = 0;             // 0: top level (EBML header, Segment); 1: in the Segment; ...

  bool unknown_size() const { return size == kEbmlUnknownSize; }
  uint64_t data_offset() const { return offset + header_size; }
  uint64_t end() const { return data_offset() + size; }  // only when the size is known
};

// The header of a SimpleBlock or Block (the payload follows through OnBlockData).
struct WebmBlockHeader {
  uint64_t track = 0;
  int16_t timecode = 0;     // relative to the cluster's Timecode
  bool keyframe = false;    // SimpleBlock flag; always false in a Block (see ReferenceBlock)
  bool invisible = false;
  bool discardable = false;
  int lacing = 0;           // 0 none, 1 Xiph, 2 fixed, 3 EBML
  int frames = 1;           // number of laced frames
  uint32_t header_size = 0; // bytes of track + timecode + flags (+ lace count)
  uint64_t payload_size = 0;  // element payload after header_size
};

// Receives the parser's events. Any failed Status stops the parser and is returned by Feed/Finish.
class WebmListener {
 public:
  virtual ~WebmListener() = default;
  // Every element, before its payload.
  virtual Status OnElementStart(const EbmlElement& e) { return Status::Ok(); }
  // Every element once its payload is over. `end` is its end offset (for unknown sizes: where the next
  // non-child element starts, or the end of the input).
  virtual Status OnElementEnd(const EbmlElement& e, uint64_t end) { return Status::Ok(); }
  // The whole payload of an element the parser buffers (see Buffered() in webm_parser.cpp): EBML header,
  // Info, Tracks and the small leaves of Clusters and BlockGroups. Called before OnElementEnd.
  virtual Status OnElementData(const EbmlElement& e, const uint8_t* data, size_t size) { return Status::Ok(); }
  // A SimpleBlock or Block header, after OnElementStart of that element.
  virtual Status OnBlock(const EbmlElement& e, const WebmBlockHeader& b) { return Status::Ok(); }
  // Block payload bytes in order, in one or more pieces; they point into the buffer given to Feed.
  virtual Status OnBlockData(const uint8_t* data, size_t size) { return Status::Ok(); }
};

class WebmStreamParser {
 public:
  explicit WebmStreamParser(WebmListener* listener) : listener_(listener) {}

  // Parses the next `size` bytes of the input. After an error every further call returns it again.
  Status Feed(const uint8_t* data, size_t size);
  // The end of the input: closes unknown-size elements; an element cut short is an error whose
  // message says where (truncated() is then true and partial_element_offset() tells where it began).
  Status Finish();

  uint64_t position() const { return pos_; }
  bool truncated() const { return truncated_; }
  // Offset of the outermost element that is not complete at Finish(), ignoring the Segment and
  // Clusters (which may legitimately run to the end of the input).
  uint64_t partial_element_offset() const { return partial_offset_; }

 private:
  enum class State { kId, kSize, kBuffer, kSkip, kBlockHeader, kBlockData, kReject };
  Status Fail(Status s);
  Status NotWebm() const;
  Status StartElement();
  Status CloseFinished();                 // pops known-size elements that end at pos_
  Status CloseForSibling(uint32_t id);    // pops unknown-size elements that cannot contain `id`
  Status EndLeaf();
  Status ParseBlockHeader(bool* done);

  WebmListener* listener_;
  Status error_;
  bool failed_ = false;
  bool finished_ = false;
  bool truncated_ = false;
  uint64_t partial_offset_ = 0;
  uint64_t pos_ = 0;
  State state_ = State::kId;
  std::vector<EbmlElement> stack_;  // open masters (Segment, Cluster, BlockGroup)
  EbmlElement cur_;                 // the element being read (leaf or block) or whose header is read
  uint8_t vint_[8] = {};
  int vint_len_ = 0;                // bytes of the current ID/size read so far
  int vint_need_ = 0;
  uint64_t remaining_ = 0;          // payload bytes left in kBuffer/kSkip/kBlockData
  std::vector<uint8_t> buffer_;
  uint8_t block_head_[16] = {};
  uint32_t block_head_len_ = 0;
  WebmBlockHeader block_;
};

// ---- helpers for buffered payloads ----

// Calls fn(id, data, size) for each child of an in-memory master payload; fails on corrupt data.
// fn returns a Status (failures stop the walk). `base_offset` is only used in messages.
template <typename Fn>
Status ForEachChild(const uint8_t* data, size_t size, uint64_t base_offset, Fn&& fn);

// Reads an unsigned / signed / float EBML value of 0..8 bytes.
bool ReadEbmlUint(const uint8_t* data, size_t size, uint64_t* out);
bool ReadEbmlInt(const uint8_t* data, size_t size, int64_t* out);
bool ReadEbmlFloat(const uint8_t* data, size_t size, double* out);

// Reads an element ID / a size VINT at data[0..size). Returns the bytes used, 0 when more bytes are
// needed, -1 when invalid. Sizes with all value bits set are kEbmlUnknownSize.
int ReadEbmlId(const uint8_t* data, size_t size, uint32_t* id);
int ReadEbmlSize(const uint8_t* data, size_t size, uint64_t* value);

struct WebmEbmlHeader {
  std::string doc_type;  // "webm" or "matroska"
  uint64_t doc_type_version = 1;
};
Status ParseEbmlHeader(const uint8_t* data, size_t size, WebmEbmlHeader* out);

struct WebmInfo {
  uint64_t timecode_scale = 1000000;  // ns per Timecode tick
  double duration = -1;               // in ticks; < 0 when absent
  std::string muxing_app;
  std::string writing_app;
};
Status ParseInfo(const uint8_t* data, size_t size, WebmInfo* out);

struct WebmTrack {
  uint64_t number = 0;
  uint64_t uid = 0;
  uint64_t type = 0;  // 1 video, 2 audio, 17 subtitle, ...
  std::string codec_id;
  std::vector<uint8_t> codec_private;
  uint64_t default_duration_ns = 0;
  uint64_t width = 0, height = 0;
  double sampling_frequency = 0;
  uint64_t channels = 0;
  bool content_encoded = false;  // ContentEncodings: frames are compressed or encrypted in the file
};
Status ParseTracks(const uint8_t* data, size_t size, std::vector<WebmTrack>* out);

// ---- template implementation ----
template <typename Fn>
Status ForEachChild(const uint8_t* data, size_t size, uint64_t base_offset, Fn&& fn) {
  size_t p = 0;
  while (p < size) {
    uint32_t id = 0;
    uint64_t len = 0;
    int a = ReadEbmlId(data + p, size - p, &id);
    int b = a > 0 ? ReadEbmlSize(data + p + a, size - p - a, &len) : -1;
    if (a <= 0 || b <= 0 || len == kEbmlUnknownSize || len > size - p - a - b) {
      return Status::CorruptData("corrupt element at byte " + std::to_string(base_offset + p) +
                                 " inside a buffered element");
    }
    Status s = fn(id, data + p + a + b, size_t(len));
    if (!s.ok()) return s;
    p += a + b + size_t(len);
  }
  return Status::Ok();
}

}  // namespace ck
