// Status: how every fallible function in the core reports failure without exceptions
// (the wasm build has C++ exceptions off). Bindings turn a failed Status into a JS Error.
#pragma once
#include <string>
#include <utility>

namespace ck {

enum class Code { kOk = 0, kInvalidArgument, kOutOfRange, kCorruptData, kResourceExhausted, kFailedPrecondition };

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status OutOfRange(std::string m) { return Status(Code::kOutOfRange, std::move(m)); }
  static Status CorruptData(std::string m) { return Status(Code::kCorruptData, std::move(m)); }
  static Status ResourceExhausted(std::string m) { return Status(Code::kResourceExhausted, std::move(m)); }
  static Status FailedPrecondition(std::string m) { return Status(Code::kFailedPrecondition, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "RangeError" / "TypeError" / "Error": the JS error class the bindings should throw.
  const char* js_error_name() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A number as an error message shows it, the way JS would print it for ordinary values: "3", "-2",
// "0.25" (at most 6 decimals), past 2^64 "1.5e+300", NaN and Infinity by name. Messages use this instead
// of std::to_string(double), which pulls printf's floating-point formatter into every wasm module.
std::string NumberText(double v);

}  // namespace ck
