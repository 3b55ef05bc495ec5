// FileByteSink: a ByteSink over a FILE* for the native tests (the wasm build has no filesystem).
#pragma once
#include <cstdio>
#include <string>

#include "video/byte_sink.h"

namespace ck {

class FileByteSink final : public ByteSink {
 public:
  explicit FileByteSink(const std::string& path) : f_(std::fopen(path.c_str(), "w+b")) {}
  ~FileByteSink() override {
    if (f_) std::fclose(f_);
  }
  bool ok() const { return f_ != nullptr; }

  Status Write(const uint8_t* data, size_t size) override {
    if (!f_ || std::fwrite(data, 1, size, f_) != size) return Status::FailedPrecondition("file sink: write failed");
    pos_ += int64_t(size);
    if (pos_ > size_) size_ = pos_;
    return Status::Ok();
  }
  int64_t Position() const override { return pos_; }
  bool Seekable() const override { return true; }
  Status Seek(int64_t pos) override {
    if (!f_ || pos < 0 || pos > size_ || std::fseek(f_, long(pos), SEEK_SET) != 0)
      return Status::OutOfRange("file sink: bad seek");
    pos_ = pos;
    return Status::Ok();
  }
  int64_t Size() const override { return size_; }
  Status Close() override {
    if (f_ && std::fflush(f_) != 0) return Status::FailedPrecondition("file sink: flush failed");
    return Status::Ok();
  }

 private:
  std::FILE* f_;
  int64_t pos_ = 0;
  int64_t size_ = 0;
};

}  // namespace ck
