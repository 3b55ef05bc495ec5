// Mp4StreamReader: a streaming (push) reader of MP4 and fragmented MP4 (ISO/IEC 14496-12). Feed it the
// file's bytes split anywhere (one byte at a time works); it reports, in file order:
//   OnMovie      the moov: every track (id, handler, timescale, duration, sample entry with its codec
//                configuration, edit list, trex defaults) and, for a progressive file, every sample from
//                the sample tables (offset, size, decode time, duration, composition offset, sync)
//   OnFragment   each moof: per traf, its samples with absolute file offsets and decode times
//   OnMediaData  the payload of every mdat, as views of the fed buffer (never copied or held)
//   OnIndex      the mfra (per track: time and moof offset of the random-access points)
//
// Memory: the reader holds one metadata box at a time (ftyp, styp, moov, moof, mfra, sidx; each at
// most kMaxMp4MetadataBox) and the parsed result of the moov; mdat payloads pass through, and other
// top-level boxes (free, skip, uuid, meta, ...) are skipped without being held. A progressive moov's
// sample list grows with the samples (at most kMaxMp4Samples per track); a fragmented file's memory
// does not grow with its length. Offsets and sizes are 64-bit: 64-bit box sizes (largesize), co64,
// tfhd base data offsets, mdat of any size, so a file over 4 GB reads.
//
// Codecs (sample entry -> its configuration box, both required): avc1/avc3 -> avcC, hvc1/hev1 ->
// hvcC, vp09 -> vpcC, av01 -> av1C, Opus -> dOps, mp4a -> esds. Any other sample entry is refused.
//
// Bad input fails with a Status saying what was wrong and where (byte offsets), and the reader then
// stops (every further call returns the same failure):
//   - a box smaller than its header, or whose size runs past its parent (CorruptData)
//   - a 64-bit size over kMaxMp4BoxSize, e.g. 2^63 (CorruptData)
//   - a moov whose sample tables disagree (stts/stsz/ctts sample counts, stsc chunks past stco,
//     stss entries past the last sample), a track without a sample entry, a sample outside every mdat
//   - a fragment whose samples are not inside the mdat that follows it, a trun for an unknown track
//   - an unknown codec, a missing configuration box
// Finish() ends the input: a box cut short is an error ("truncated ...", truncated() is then true and
// partial_box_offset() says where the box began), never a partial result reported as complete. The
// caller that wants what came before the cut (a crash-cut recording) reads the events already
// delivered; complete_fragments() counts the fragments whose samples were all inside the input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ck {

// The largest metadata box (moov, moof, mfra, ...) the reader holds whole.
constexpr uint64_t kMaxMp4MetadataBox = 64u << 20;
// The largest box size the reader accepts: 2^53 bytes (8 PiB; every offset fits a JS number).
constexpr uint64_t kMaxMp4BoxSize = uint64_t(1) << 53;
// The most samples one track's sample tables may describe (4,194,304: 38 hours of 30 fps video; the
// parsed samples take 32 bytes each, so a small moov cannot make the reader allocate more than 128 MiB).
constexpr uint64_t kMaxMp4Samples = 1u << 22;

// "moov" from a four-character code stored big-endian in a uint32_t.
std::string Mp4FourCC(uint32_t type);
constexpr uint32_t Mp4Type(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) << 24 | uint32_t(uint8_t(s[1])) << 16 | uint32_t(uint8_t(s[2])) << 8 | uint8_t(s[3]);
}

// A box header as found in the file.
struct Mp4Box {
  uint32_t type = 0;
  uint64_t offset = 0;       // of its first byte
  uint32_t header_size = 0;  // 8, 16 (largesize)
  uint64_t size = 0;         // whole box; for size 0 ("to the end of the file"): UINT64_MAX until Finish
  bool to_end() const { return size == UINT64_MAX; }
  uint64_t data_offset() const { return offset + header_size; }
};

struct Mp4Sample {
  uint64_t offset = 0;        // in the file
  uint32_t size = 0;
  uint32_t duration = 0;      // in the track's timescale
  uint64_t decode_time = 0;   // in the track's timescale
  int32_t composition_offset = 0;
  bool sync = false;
};

struct Mp4EditEntry {
  uint64_t segment_duration = 0;  // movie timescale
  int64_t media_time = 0;         // -1: an empty edit
  uint32_t rate = 0x10000;
};

struct Mp4Track {
  uint32_t id = 0;
  uint32_t handler = 0;                 // 'vide', 'soun', ...
  uint32_t timescale = 0;               // mdhd
  uint64_t media_duration = 0;          // mdhd
  uint64_t track_duration = 0;          // tkhd (movie timescale)
  uint32_t sample_entry_type = 0;       // 'avc1', 'vp09', 'av01', 'Opus', 'mp4a', ...
  std::vector<uint8_t> sample_entry;    // the whole sample entry box (stsd's first entry)
  uint32_t config_type = 0;             // 'avcC', 'vpcC', 'av1C', 'dOps', 'esds', 'hvcC'
  std::vector<uint8_t> config;          // that box's payload
  uint16_t width = 0, height = 0;       // visual sample entry
  uint16_t channels = 0;                // audio sample entry
  uint32_t sample_rate = 0;             // audio sample entry (integer part)
  std::vector<Mp4EditEntry> edits;
  // trex defaults (fragmented files)
  uint32_t default_duration = 0, default_size = 0, default_flags = 0;
  std::vector<Mp4Sample> samples;       // from the moov's sample tables (empty in a fragmented file)

  bool video() const { return handler == Mp4Type("vide"); }
  bool audio() const { return handler == Mp4Type("soun"); }
  // "h264", "hevc", "vp9", "av1", "opus", "aac"
  std::string codec() const;
  // The RFC 6381 string: "avc1.42c01e", "vp09.00.10.08", "av01.0.04M.08", "opus", "mp4a.40.2".
  std::string CodecString() const;
};

struct Mp4Movie {
  uint32_t major_brand = 0;
  std::vector<uint32_t> compatible_brands;
  uint32_t timescale = 0;        // mvhd
  uint64_t duration = 0;         // mvhd (movie timescale)
  uint64_t fragment_duration = 0;  // mehd, when there is one
  bool fragmented = false;       // an mvex: samples come in moof boxes
  std::vector<Mp4Track> tracks;
  const Mp4Track* Find(uint32_t id) const;
};

struct Mp4TrackRun {
  uint32_t track_id = 0;
  std::vector<Mp4Sample> samples;
};

struct Mp4Fragment {
  uint64_t moof_offset = 0;
  uint64_t moof_size = 0;
  uint32_t sequence = 0;
  std::vector<Mp4TrackRun> runs;  // one per traf (their truns joined)
  uint64_t data_begin = 0, data_end = 0;  // the smallest and largest byte its samples use
};

struct Mp4IndexEntry {
  uint32_t track_id = 0;
  uint64_t time = 0;
  uint64_t moof_offset = 0;
};

class Mp4Listener {
 public:
  virtual ~Mp4Listener() = default;
  // Every top-level box, before its payload.
  virtual Status OnBox(const Mp4Box& box) { return Status::Ok(); }
  virtual Status OnFileType(uint32_t major_brand, const std::vector<uint32_t>& compatible) { return Status::Ok(); }
  virtual Status OnMovie(const Mp4Movie& movie) { return Status::Ok(); }
  virtual Status OnFragment(const Mp4Fragment& fragment) { return Status::Ok(); }
  // mdat payload bytes in order; `offset` is the file offset of data[0]. Points into the fed buffer.
  virtual Status OnMediaData(uint64_t offset, const uint8_t* data, size_t size) { return Status::Ok(); }
  virtual Status OnIndex(const std::vector<Mp4IndexEntry>& entries) { return Status::Ok(); }
};

class Mp4StreamReader {
 public:
  explicit Mp4StreamReader(Mp4Listener* listener) : listener_(listener) {}
  Mp4StreamReader(const Mp4StreamReader&) = delete;
  Mp4StreamReader& operator=(const Mp4StreamReader&) = delete;

  // Reads the next `size` bytes. After a failure every further call returns it again.
  Status Feed(const uint8_t* data, size_t size);
  // The end of the input: a box cut short, a moov never seen, a sample outside the file fail here.
  Status Finish();

  uint64_t position() const { return pos_; }
  bool truncated() const { return truncated_; }
  uint64_t partial_box_offset() const { return partial_offset_; }
  const Mp4Movie& movie() const { return movie_; }
  bool has_movie() const { return has_movie_; }
  uint64_t fragments() const { return fragments_; }
  // Fragments whose samples all lie inside the mdat after them (all of them unless the input was cut).
  uint64_t complete_fragments() const { return complete_fragments_; }
  // Samples (of every track) in the moov tables and in complete fragments.
  uint64_t samples() const { return samples_; }

 private:
  enum class State { kHeader, kBuffer, kMediaData, kSkip };
  Status Fail(Status s);
  Status StartBox();
  Status EndBufferedBox();
  Status EndMediaData();
  Status ParseMovie(const uint8_t* data, size_t size, uint64_t offset);
  Status ParseFragment(const uint8_t* data, size_t size, uint64_t offset);
  Status ParseIndex(const uint8_t* data, size_t size, uint64_t offset);
  Status CheckPendingFragment(uint64_t mdat_begin, uint64_t mdat_end);
  Status CheckMovieSamples();

  Mp4Listener* listener_;
  Status error_;
  bool failed_ = false;
  bool finished_ = false;
  bool truncated_ = false;
  uint64_t partial_offset_ = 0;
  uint64_t pos_ = 0;
  State state_ = State::kHeader;
  uint8_t head_[16] = {};
  uint32_t head_len_ = 0;
  Mp4Box box_;
  uint64_t remaining_ = 0;  // payload bytes left of box_ (kBuffer, kMediaData, kSkip)
  std::vector<uint8_t> buffer_;

  bool seen_ftyp_ = false;
  bool has_movie_ = false;
  Mp4Movie movie_;
  std::vector<uint64_t> next_decode_time_;  // per track, after its last fragment
  bool fragment_pending_ = false;           // a moof whose mdat has not ended yet
  Mp4Fragment pending_;
  uint64_t fragments_ = 0;
  uint64_t complete_fragments_ = 0;
  uint64_t samples_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> mdats_;  // [begin, end) of mdat payloads (progressive check)
};

}  // namespace ck
