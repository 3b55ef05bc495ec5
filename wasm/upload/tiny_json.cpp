#include "upload/tiny_json.h"

namespace ck::json {
namespace {

class Parser {
 public:
  Parser(const std::string& t, int max_depth) : t_(t), max_depth_(max_depth) {}

  Status Document(Value* out) {
    SkipSpace();
    Status s = ParseValue(out, 0);
    if (!s.ok()) return s;
    SkipSpace();
    if (pos_ != t_.size()) return Error("unexpected text after the JSON value");
    return Status::Ok();
  }

  Status Prefix(size_t offset, Value* out, size_t* end) {
    pos_ = offset;
    SkipSpace();
    Status s = ParseValue(out, 0);
    *end = pos_ < t_.size() ? pos_ : t_.size();
    return s;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::CorruptData("JSON: " + what + " at offset " + std::to_string(pos_));
  }
  bool AtEnd() const { return pos_ >= t_.size(); }
  char Peek() const { return t_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) ++pos_;
  }
  bool Literal(const char* word) {
    size_t n = 0;
    while (word[n]) ++n;
    if (t_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }

  Status ParseValue(Value* v, int depth) {
    if (depth > max_depth_) return Error("nesting deeper than " + std::to_string(max_depth_));
    if (AtEnd()) return Error("unexpected end of text");
    char c = Peek();
    if (c == '{') return ParseObject(v, depth);
    if (c == '[') return ParseArray(v, depth);
    if (c == '"') {
      v->type = Value::Type::kString;
      return ParseString(&v->s);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return ParseInt(v);
    if (Literal("true")) { v->type = Value::Type::kBool; v->b = true; return Status::Ok(); }
    if (Literal("false")) { v->type = Value::Type::kBool; v->b = false; return Status::Ok(); }
    if (Literal("null")) { v->type = Value::Type::kNull; return Status::Ok(); }
    return Error(std::string("unexpected character '") + (c >= 0x20 && c < 0x7f ? std::string(1, c) : "?") + "'");
  }

  Status ParseInt(Value* v) {
    bool neg = false;
    if (Peek() == '-') { neg = true; ++pos_; }
    if (AtEnd() || Peek() < '0' || Peek() > '9') return Error("expected a digit");
    if (Peek() == '0' && pos_ + 1 < t_.size() && t_[pos_ + 1] >= '0' && t_[pos_ + 1] <= '9') {
      return Error("leading zero in a number");
    }
    int64_t x = 0;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
      x = x * 10 + (Peek() - '0');
      if (x > kMaxSafeInteger) return Error("integer too large");
      ++pos_;
    }
    if (!AtEnd() && (Peek() == '.' || Peek() == 'e' || Peek() == 'E')) return Error("only integers are expected");
    v->type = Value::Type::kInt;
    v->i = neg ? -x : x;
    return Status::Ok();
  }

  static void AppendUtf8(uint32_t cp, std::string* s) {
    if (cp < 0x80) {
      s->push_back(char(cp));
    } else if (cp < 0x800) {
      s->push_back(char(0xC0 | (cp >> 6)));
      s->push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s->push_back(char(0xE0 | (cp >> 12)));
      s->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(char(0x80 | (cp & 0x3F)));
    } else {
      s->push_back(char(0xF0 | (cp >> 18)));
      s->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
      s->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(char(0x80 | (cp & 0x3F)));
    }
  }

  bool Hex4(uint32_t* out) {
    if (t_.size() - pos_ < 4) return false;
    uint32_t x = 0;
    for (int k = 0; k < 4; ++k) {
      char c = t_[pos_ + k];
      x <<= 4;
      if (c >= '0' && c <= '9') x |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') x |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') x |= uint32_t(c - 'A' + 10);
      else return false;
    }
    pos_ += 4;
    *out = x;
    return true;
  }

  Status ParseString(std::string* s) {
    ++pos_;  // opening quote
    s->clear();
    while (true) {
      if (AtEnd()) return Error("unterminated string");
      unsigned char c = static_cast<unsigned char>(t_[pos_++]);
      if (c == '"') return Status::Ok();
      if (c < 0x20) return Error("control character inside a string");
      if (c != '\\') {
        s->push_back(char(c));
        continue;
      }
      if (AtEnd()) return Error("unterminated escape");
      char e = t_[pos_++];
      switch (e) {
        case '"': s->push_back('"'); break;
        case '\\': s->push_back('\\'); break;
        case '/': s->push_back('/'); break;
        case 'b': s->push_back('\b'); break;
        case 'f': s->push_back('\f'); break;
        case 'n': s->push_back('\n'); break;
        case 'r': s->push_back('\r'); break;
        case 't': s->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return Error("bad \\u escape");
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("lone low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (t_.compare(pos_, 2, "\\u") != 0) return Error("lone high surrogate in \\u escape");
            pos_ += 2;
            if (!Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return Error("bad surrogate pair in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(cp, s);
          break;
        }
        default: return Error("unknown escape");
      }
    }
  }

  Status ParseArray(Value* v, int depth) {
    ++pos_;
    v->type = Value::Type::kArray;
    SkipSpace();
    if (!AtEnd() && Peek() == ']') { ++pos_; return Status::Ok(); }
    while (true) {
      SkipSpace();
      v->items.emplace_back();
      Status s = ParseValue(&v->items.back(), depth + 1);
      if (!s.ok()) return s;
      SkipSpace();
      if (AtEnd()) return Error("unterminated array");
      char c = t_[pos_++];
      if (c == ']') return Status::Ok();
      if (c != ',') return Error("expected ',' or ']' in an array");
    }
  }

  Status ParseObject(Value* v, int depth) {
    ++pos_;
    v->type = Value::Type::kObject;
    SkipSpace();
    if (!AtEnd() && Peek() == '}') { ++pos_; return Status::Ok(); }
    while (true) {
      SkipSpace();
      if (AtEnd() || Peek() != '"') return Error("expected a key string");
      std::string key;
      Status s = ParseString(&key);
      if (!s.ok()) return s;
      if (v->Find(key)) return Error("duplicate key \"" + key + "\"");
      SkipSpace();
      if (AtEnd() || t_[pos_++] != ':') return Error("expected ':' after a key");
      SkipSpace();
      v->fields.emplace_back(std::move(key), Value());
      s = ParseValue(&v->fields.back().second, depth + 1);
      if (!s.ok()) return s;
      SkipSpace();
      if (AtEnd()) return Error("unterminated object");
      char c = t_[pos_++];
      if (c == '}') return Status::Ok();
      if (c != ',') return Error("expected ',' or '}' in an object");
    }
  }

  const std::string& t_;
  int max_depth_;
  size_t pos_ = 0;
};

}  // namespace

const Value* Value::Find(const std::string& key) const {
  for (const auto& f : fields) {
    if (f.first == key) return &f.second;
  }
  return nullptr;
}

const char* TypeName(Value::Type t) {
  switch (t) {
    case Value::Type::kNull: return "null";
    case Value::Type::kBool: return "a boolean";
    case Value::Type::kInt: return "an integer";
    case Value::Type::kString: return "a string";
    case Value::Type::kArray: return "an array";
    case Value::Type::kObject: return "an object";
  }
  return "?";
}

Status Parse(const std::string& text, Value* out, int max_depth) {
  *out = Value();
  return Parser(text, max_depth).Document(out);
}

Status ParsePrefix(const std::string& text, size_t offset, Value* out, size_t* end, int max_depth) {
  *out = Value();
  if (offset > text.size()) offset = text.size();
  return Parser(text, max_depth).Prefix(offset, out, end);
}

void Writer::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

Writer& Writer::BeginObject() {
  Separate();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}
Writer& Writer::EndObject() {
  out_.push_back('}');
  first_.pop_back();
  return *this;
}
Writer& Writer::BeginArray() {
  Separate();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}
Writer& Writer::EndArray() {
  out_.push_back(']');
  first_.pop_back();
  return *this;
}
Writer& Writer::Key(const std::string& k) {
  String(k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}
Writer& Writer::String(const std::string& s) {
  Separate();
  static const char kHex[] = "0123456789abcdef";
  out_.push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out_ += "\\\""; break;
      case '\\': out_ += "\\\\"; break;
      case '\n': out_ += "\\n"; break;
      case '\r': out_ += "\\r"; break;
      case '\t': out_ += "\\t"; break;
      default:
        if (c < 0x20) {
          out_ += "\\u00";
          out_.push_back(kHex[c >> 4]);
          out_.push_back(kHex[c & 15]);
        } else {
          out_.push_back(char(c));
        }
    }
  }
  out_.push_back('"');
  return *this;
}
Writer& Writer::Int(int64_t v) {
  Separate();
  out_ += std::to_string(v);
  return *this;
}
Writer& Writer::Bool(bool v) {
  Separate();
  out_ += v ? "true" : "false";
  return *this;
}

}  // namespace ck::json
