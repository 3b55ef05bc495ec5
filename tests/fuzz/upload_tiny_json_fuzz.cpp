// libFuzzer target: the small JSON reader under the upload queue's persisted state (tiny_json.cpp).
// Byte 0 picks the nesting limit and where ParsePrefix starts; the rest is the text.
//   A text Parse accepts, written back with the Writer, reads back to the same value (and writes the
//   same text again); ParsePrefix from offset 0 accepts it too and ends at its end (or its trailing
//   space); ParsePrefix anywhere never reads past the text and ends where it says.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "upload/tiny_json.h"

namespace {

using ck::json::Value;

[[noreturn]] void Die(const char* why, const std::string& detail = "") {
  fprintf(stderr, "upload_tiny_json_fuzz: %s\n%s\n", why, detail.c_str());
  abort();
}

void Write(const Value& v, ck::json::Writer* w) {
  switch (v.type) {
    case Value::Type::kNull: Die("the writer has no null, and none is expected here");
    case Value::Type::kBool: w->Bool(v.b); break;
    case Value::Type::kInt: w->Int(v.i); break;
    case Value::Type::kString: w->String(v.s); break;
    case Value::Type::kArray:
      w->BeginArray();
      for (const auto& x : v.items) Write(x, w);
      w->EndArray();
      break;
    case Value::Type::kObject:
      w->BeginObject();
      for (const auto& [k, x] : v.fields) {
        w->Key(k);
        Write(x, w);
      }
      w->EndObject();
      break;
  }
}

bool HasNull(const Value& v) {
  if (v.type == Value::Type::kNull) return true;
  for (const auto& x : v.items) if (HasNull(x)) return true;
  for (const auto& f : v.fields) if (HasNull(f.second)) return true;
  return false;
}

bool Same(const Value& a, const Value& b) {
  if (a.type != b.type || a.b != b.b || a.i != b.i || a.s != b.s) return false;
  if (a.items.size() != b.items.size() || a.fields.size() != b.fields.size()) return false;
  for (size_t i = 0; i < a.items.size(); ++i) if (!Same(a.items[i], b.items[i])) return false;
  for (size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].first != b.fields[i].first || !Same(a.fields[i].second, b.fields[i].second)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int depth = 1 + (data[0] & 15);
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  Value v;
  if (ck::json::Parse(text, &v, depth).ok()) {
    Value p;
    size_t end = 0;
    ck::Status s = ck::json::ParsePrefix(text, 0, &p, &end, depth);
    if (!s.ok() || !Same(v, p)) Die("ParsePrefix disagrees with Parse", s.message());
    for (size_t i = end; i < text.size(); ++i) {
      if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') Die("ParsePrefix ended early");
    }
    if (!HasNull(v)) {
      ck::json::Writer w;
      Write(v, &w);
      const std::string once = w.Take();
      Value back;
      s = ck::json::Parse(once, &back, depth);
      if (!s.ok()) Die("written JSON does not read back", s.message() + "\n" + once);
      if (!Same(v, back)) Die("written JSON reads back as another value", once);
      ck::json::Writer w2;
      Write(back, &w2);
      if (w2.str() != once) Die("writing the value again gives other text", once);
    }
  }

  // ParsePrefix from an arbitrary offset (byte 0's high bits pick it).
  const size_t offset = text.empty() ? 0 : (size_t(data[0] >> 4) * 977) % (text.size() + 1);
  Value p;
  size_t end = SIZE_MAX;
  ck::Status s = ck::json::ParsePrefix(text, offset, &p, &end, depth);
  if (end > text.size()) Die("ParsePrefix ends past the text");
  if (s.ok() && end <= offset) Die("ParsePrefix accepted a value of no bytes");
  return 0;
}
