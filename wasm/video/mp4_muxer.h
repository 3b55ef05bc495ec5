// Mp4Muxer: one video track (H.264, VP9 or AV1) and an optional audio track (Opus or AAC) in an MP4
// file (ISO/IEC 14496-12), written through a ByteSink like WebmMuxer. Sample entries: mp4_sample_entry.h.
// Two layouts:
//
// Fragmented (Mp4Layout::kFragmented): streams in bounded memory; what a recording writes.
//   ftyp                       isom, compatible iso6 iso2 mp41 (+ avc1 / av01)
//   moov                       no samples: empty stts/stsc/stsz/stco
//     mvhd  (v1)               duration: 0, patched at Finish
//     mvex
//       mehd (v1)              fragment_duration: 0, patched at Finish
//       trex per track         default sample description 1
//     trak per track           tkhd (v1, duration patched at Finish), [edts/elst: Opus pre-skip], mdia
//   moof + mdat                one per fragment: a fragment starts at every video key frame, and
//                              earlier when kMaxFragmentNs of media or kMaxFragmentBytes wait
//     mfhd                     sequence number 1, 2, ...
//     traf per track that has samples in it
//       tfhd                   default-base-is-moof
//       tfdt (v1)              the first sample's decode time, exactly the time it was given
//       trun                   data offset, and per sample: duration, size, flags (sync or not)
//   mfra                       at Finish: a tfra per track (every fragment's first key frame:
//     tfra (v1) per track      time, moof offset) and mfro with the mfra's size
//     mfro
//   Everything before the current fragment is final once the fragment is written (the sink is told,
//   Commit), except the few duration fields in the init segment, which Finish patches (ranges at a
//   lower offset: see byte_sink.h). A file cut off after any fragment still plays up to it.
//
// Progressive (Mp4Layout::kProgressive): moov before mdat with complete sample tables, for a caller
// that holds the whole file anyway (an in-memory result). The samples wait in memory until Finish,
// which writes ftyp, moov, mdat in that order:
//   moov / trak / mdia / minf / stbl: stsd, stts (run-length durations), stss (video, when not every
//   sample is a key frame), stsc, stsz, stco (co64 once an offset passes 4 GiB); edts/elst when a
//   track starts after zero (an empty edit) or has Opus pre-skip (media_time = pre-skip).
//   mdat: the samples interleaved in time, one chunk per run of one track's samples.
// Why moov first and samples held, rather than mdat first and the moov appended at the end: a file
// with moov first plays while it downloads, without a second pass (faststart) that would have to move
// every byte; a streaming recording that must stay bounded uses the fragmented layout instead.
//
// Timing: timestamps in nanoseconds of file time, each track strictly increasing (OutOfRange
// otherwise). Decode order is presentation order (no B-frames: no ctts); a sample's duration is
// the next sample's time minus its own, so the file keeps every given time exactly (to the track's
// timescale: 90 kHz video, 48 kHz Opus, the sample rate for AAC). The last video sample lasts until
// the duration given to Finish, or the average frame spacing; the last audio packet as long as it
// decodes (Opus TOC; AAC 1024 samples). Opus pre-skip is the edit list's media time; the end padding
// of the last packet shortens the audio's edit (progressive) and the reported duration.
//
// Bad input is refused with a Status saying what was wrong, and the muxer stays usable: an unknown
// codec or VP8 (InvalidArgument), a first video frame that is not a key frame, a timestamp that does
// not increase, a sample over kMaxMp4SampleBytes, a malformed H.264/AV1 frame (CorruptData).
// Output is deterministic (no creation times): the same samples give the same bytes.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "video/byte_sink.h"
#include "video/mp4_box_writer.h"
#include "video/mp4_sample_entry.h"

namespace ck {

enum class Mp4Layout { kFragmented, kProgressive };

constexpr uint32_t kMp4MovieTimescale = 1000;
constexpr size_t kMaxMp4SampleBytes = 64 << 20;
constexpr uint64_t kMaxMp4FragmentNs = 5'000'000'000;  // 5 s
constexpr size_t kMaxMp4FragmentBytes = 32 << 20;
constexpr size_t kMaxMp4PendingAudioBytes = 8 << 20;   // audio waiting for the first video key frame
constexpr uint64_t kMaxMp4TimestampNs = uint64_t(1) << 50;  // about 13 days

struct Mp4AudioOptions {
  bool enabled = false;
  std::string codec = "opus";  // "opus", "aac" / "mp4a.40.2"
  int sample_rate = 48000;
  int channels = 1;
  int pre_skip = kDefaultOpusPreSkip;  // Opus, without a description
  std::vector<uint8_t> description;    // an OpusHead / AudioSpecificConfig, or empty
};

struct Mp4MuxerOptions {
  Mp4Layout layout = Mp4Layout::kFragmented;
  std::string codec = "vp9";  // see mp4_sample_entry.h
  int width = 0;
  int height = 0;
  double fps = 30;                   // the default last-frame duration and the VP9 level
  std::vector<uint8_t> description;  // avcC / av1C (WebCodecs' decoderConfig.description), or empty
  Mp4AudioOptions audio;
};

class Mp4Muxer {
 public:
  Mp4Muxer();
  ~Mp4Muxer();
  Mp4Muxer(const Mp4Muxer&) = delete;
  Mp4Muxer& operator=(const Mp4Muxer&) = delete;

  // Checks the options and starts the file in `sink` (not owned, must outlive the muxer, seekable).
  // The init segment goes out at once, or with the first key frame when that completes the codec
  // configuration (Annex B H.264, AV1 without a description).
  Status Open(ByteSink* sink, const Mp4MuxerOptions& options);
  Status AddFrame(const uint8_t* data, size_t size, bool keyframe, uint64_t timestamp_ns);
  // discard_padding_ns: decoded time at the end of this packet to drop (the last packet of a flush).
  Status AddAudio(const uint8_t* data, size_t size, uint64_t timestamp_ns, uint64_t discard_padding_ns = 0);
  // Writes what waits, the index, patches the durations and closes the sink. duration_ns > 0 ends
  // the video there (it must be after the last frame).
  Status Finish(uint64_t duration_ns = 0);

  // 'video/mp4; codecs="vp09.00.10.08, opus"' (the codecs as written; before the first key frame of an
  // Annex B / AV1 stream, the video codec's bare four-character code).
  std::string MimeType() const;
  std::string VideoCodecString() const { return video_.entry.CodecString(); }
  double duration_seconds() const { return duration_s_; }
  int64_t frames() const { return video_.count; }
  int64_t audio_packets() const { return audio_.count; }
  int64_t fragments() const { return fragments_; }
  // The audio's end as presented (after pre-skip and end padding), in seconds; 0 without audio.
  double audio_end_seconds() const { return double(PresentationEndNs(audio_)) / 1e9; }
  bool has_audio() const { return audio_enabled_; }
  // True once a failure of the output stopped the file (every later call reports it).
  bool failed() const { return failed_; }

 private:
  struct Sample {
    std::vector<uint8_t> data;
    uint64_t time = 0;       // ticks of the track's timescale
    uint32_t duration = 0;   // ticks (provisional for the last one)
    bool sync = true;
  };
  struct FragmentEntry {
    uint64_t time, moof_offset;
    uint8_t traf_number;
    uint32_t sample_number;
  };
  struct Track {
    uint32_t id = 0;
    Mp4SampleEntry entry;
    std::vector<Sample> pending;  // fragmented: not yet written; progressive: every sample
    int64_t count = 0;
    bool any = false;
    uint64_t first_time = 0, last_time = 0;  // ticks
    uint64_t last_end = 0;                   // the last sample's time + duration
    uint64_t end_padding = 0;                // ticks (audio)
    size_t pending_bytes = 0;
    std::vector<FragmentEntry> index;        // tfra
    int64_t tkhd_duration_at = -1;           // file offset of tkhd's duration (fragmented)
  };

  Status WriteInit();
  void WriteTrak(Mp4BoxWriter* w, Track& t, bool fragmented, std::vector<size_t>* tkhd_marks);
  void WriteStbl(Mp4BoxWriter* w, const Track& t, const std::vector<uint64_t>* chunk_offsets,
                 const std::vector<uint32_t>* chunk_samples, bool co64);
  Status Flush(uint64_t video_cut_ticks, bool all);
  Status WriteFragment(std::vector<Sample>* video, std::vector<Sample>* audio);
  Status WriteProgressive();
  Status Fail(Status s);
  uint64_t TrackDurationMovie(const Track& t) const;
  uint64_t PresentationEndNs(const Track& t) const;

  ByteSink* sink_ = nullptr;
  Mp4MuxerOptions options_;
  Track video_, audio_;
  bool audio_enabled_ = false;
  bool open_ = false, init_written_ = false, finished_ = false, failed_ = false;
  Status failure_;
  uint32_t sequence_ = 0;
  int64_t fragments_ = 0;
  int64_t mvhd_duration_at_ = -1, mehd_duration_at_ = -1;
  double duration_s_ = 0;
};

}  // namespace ck
