// OpusHead and Opus packet framing: what a container needs to know about Opus without libopus
// (RFC 7845 section 5.1 for the header, RFC 6716 section 3.1 for a packet's TOC byte).
//
// OpusHead (the CodecPrivate of an A_OPUS track in WebM), little-endian:
//   0  "OpusHead"            magic, 8 bytes
//   8  version               1 (any 0x0N is readable: the upper nibble is the incompatible part)
//   9  channel count         1..255 (this project writes 1 or 2)
//   10 pre-skip              samples at 48 kHz a decoder drops at the start (the encoder's look-ahead)
//   12 input sample rate     informational: the rate the encoder was given (playback is at 48 kHz)
//   16 output gain           Q7.8 dB, 0 here
//   18 channel mapping family  0: mono/stereo, no table (exactly 19 bytes); 1 and 255: a table follows
//   19 (families other than 0) stream count, coupled count, one mapping byte per channel
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/status.h"

namespace ck {

constexpr size_t kOpusHeadSize = 19;       // family 0
constexpr size_t kMaxOpusHeadSize = 21 + 255;
constexpr int kOpusPlaybackRate = 48000;    // every Opus stream decodes at 48 kHz; WebM declares it
constexpr int kDefaultOpusPreSkip = 312;    // libopus's look-ahead at 48 kHz (application audio or voip)
constexpr size_t kMaxOpusPacketSize = 1275 * 48 + 7 * 48;  // 48 frames of the largest size, with lengths
constexpr int kMaxOpusPacketSamples = 5760;  // 120 ms at 48 kHz (RFC 6716 3.2.5)

struct OpusHead {
  int channels = 1;
  int pre_skip = kDefaultOpusPreSkip;  // samples at 48 kHz
  int input_sample_rate = 48000;
  int output_gain = 0;
  int mapping_family = 0;
};

// 19 bytes (family 0) for 1 or 2 channels.
std::vector<uint8_t> BuildOpusHead(const OpusHead& head);

// Reads and checks an OpusHead (magic, version, size for its family, channel count >= 1). Errors
// say what was wrong (InvalidArgument).
Status ParseOpusHead(const uint8_t* data, size_t size, OpusHead* head);

// The number of samples (at 48 kHz) a packet decodes to, from its TOC byte (and frame count byte for
// code 3). CorruptData for an empty packet, a code-3 packet without its count byte, zero frames, or
// more than 120 ms.
Status OpusPacketSamples(const uint8_t* data, size_t size, int* samples_48k);

}  // namespace ck
