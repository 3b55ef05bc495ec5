// Shared by the Embind files (and only by them): how a failed ck::Status reaches JS, and how bytes
// produced by the core are handed back as a view of wasm memory that JS copies once.
//
// Convention: a fallible binding returns `bool` (false = failed) after calling Fail(status); the JS
// glue then reads lastErrorName()/lastErrorMessage() and throws that Error. No exceptions cross.
#pragma once
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ck::bindings {

struct LastError {
  std::string name = "Error";
  std::string message;
};
inline LastError& last_error() {
  static LastError e;
  return e;
}
inline bool Fail(const Status& s) {
  last_error().name = s.js_error_name();
  last_error().message = s.message();
  return false;
}
inline bool Check(const Status& s) { return s.ok() ? true : Fail(s); }

template <typename T>
inline T* Ptr(uintptr_t p) { return reinterpret_cast<T*>(p); }

// Bytes owned by the core until JS calls delete(): view() is a Uint8Array over wasm memory,
// valid until the next call that may grow memory, so JS copies it out at once.
class Bytes {
 public:
  Bytes() = default;
  explicit Bytes(std::vector<uint8_t> v) : data_(std::move(v)) {}
  emscripten::val view() const { return emscripten::val(emscripten::typed_memory_view(data_.size(), data_.data())); }
  size_t size() const { return data_.size(); }
  std::vector<uint8_t>& vec() { return data_; }

 private:
  std::vector<uint8_t> data_;
};

}  // namespace ck::bindings

// Put once in exactly one bindings file of each wasm module.
#define CK_REGISTER_COMMON_BINDINGS()                                                                   \
  EMSCRIPTEN_BINDINGS(ck_common) {                                                                      \
    emscripten::function("lastErrorName", +[]() { return ck::bindings::last_error().name; });            \
    emscripten::function("lastErrorMessage", +[]() { return ck::bindings::last_error().message; });      \
    emscripten::class_<ck::bindings::Bytes>("Bytes")                                                    \
        .function("view", &ck::bindings::Bytes::view)                                                   \
        .function("size", &ck::bindings::Bytes::size);                                                  \
  }
