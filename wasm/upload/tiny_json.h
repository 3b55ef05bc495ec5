// A deliberately small JSON reader and writer for the upload queue's persisted state: integers (no
// fractions or exponents), strings, booleans, null, arrays and objects. The reader never crashes on bad
// input: it returns CorruptData, limits nesting depth and rejects duplicate keys.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ck::json {

// The largest integer JSON (and a JS number) carries exactly: 2^53 - 1.
constexpr int64_t kMaxSafeInteger = (int64_t(1) << 53) - 1;

struct Value {
  enum class Type { kNull, kBool, kInt, kString, kArray, kObject };
  Type type = Type::kNull;
  bool b = false;
  int64_t i = 0;
  std::string s;
  std::vector<Value> items;                           // kArray
  std::vector<std::pair<std::string, Value>> fields;  // kObject, in document order

  const Value* Find(const std::string& key) const;
};

const char* TypeName(Value::Type t);

// Parses exactly one JSON value (surrounding whitespace allowed). Integers must lie within
// +-kMaxSafeInteger; nesting deeper than max_depth is rejected.
Status Parse(const std::string& text, Value* out, int max_depth = 16);

// Parses one JSON value that starts at `offset` (after optional whitespace) and may be followed by
// anything. *end: the offset just past the value, or where reading stopped when the result is not ok.
Status ParsePrefix(const std::string& text, size_t offset, Value* out, size_t* end, int max_depth = 16);

// Appends JSON text; the caller is responsible for the structure, the writer for commas and escaping.
class Writer {
 public:
  Writer& BeginObject();
  Writer& EndObject();
  Writer& BeginArray();
  Writer& EndArray();
  Writer& Key(const std::string& k);  // inside an object, before each value
  Writer& String(const std::string& s);
  Writer& Int(int64_t v);
  Writer& Bool(bool v);
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate();
  std::string out_;
  std::vector<bool> first_;   // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace ck::json
