#include "upload/queue_state_json.h"

#include <initializer_list>
#include <unordered_set>

#include "upload/sha256.h"
#include "upload/tiny_json.h"

namespace ck {
namespace {

std::string Hex64(uint64_t v) {
  static const char kHex[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[i] = kHex[v & 15];
  return s;
}

bool ParseHex64(const std::string& s, uint64_t* out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= uint64_t(c - '0');
    else if (c >= 'a' && c <= 'f') v |= uint64_t(c - 'a' + 10);
    else return false;
  }
  *out = v;
  return true;
}

// Reads one object's fields with the path of the object for messages; unknown keys are errors.
class Fields {
 public:
  Fields(const json::Value& v, std::string path) : v_(v), path_(std::move(path)) {}

  Status Only(std::initializer_list<const char*> keys) const {
    if (v_.type != json::Value::Type::kObject) return Bad("", std::string("expected an object, got ") + json::TypeName(v_.type));
    for (const auto& f : v_.fields) {
      bool known = false;
      for (const char* k : keys) known = known || f.first == k;
      if (!known) return Bad(f.first, "unknown field");
    }
    return Status::Ok();
  }
  Status Get(const char* key, const json::Value** out, json::Value::Type t) const {
    const json::Value* f = v_.Find(key);
    if (!f) return Bad(key, "missing");
    if (f->type != t) return Bad(key, std::string("expected ") + json::TypeName(t) + ", got " + json::TypeName(f->type));
    *out = f;
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) const {
    const json::Value* f;
    Status s = Get(key, &f, json::Value::Type::kBool);
    if (s.ok()) *out = f->b;
    return s;
  }
  Status Int(const char* key, int64_t min, int64_t max, int64_t* out) const {
    const json::Value* f;
    Status s = Get(key, &f, json::Value::Type::kInt);
    if (!s.ok()) return s;
    if (f->i < min || f->i > max) {
      return Bad(key, std::to_string(f->i) + " is outside " + std::to_string(min) + ".." + std::to_string(max));
    }
    *out = f->i;
    return Status::Ok();
  }
  template <typename T>
  Status Uint(const char* key, int64_t max, T* out) const {
    int64_t v;
    Status s = Int(key, 0, max, &v);
    if (s.ok()) *out = T(v);
    return s;
  }
  Status String(const char* key, size_t max_bytes, std::string* out) const {
    const json::Value* f;
    Status s = Get(key, &f, json::Value::Type::kString);
    if (!s.ok()) return s;
    if (f->s.size() > max_bytes) return Bad(key, "longer than " + std::to_string(max_bytes) + " bytes");
    *out = f->s;
    return Status::Ok();
  }
  Status Bad(const std::string& key, const std::string& what) const {
    return Status::CorruptData("upload state: " + path_ + (key.empty() ? "" : "." + key) + ": " + what);
  }

 private:
  const json::Value& v_;
  std::string path_;
};

#define CK_TRY(expr)              \
  do {                            \
    Status ck_s_ = (expr);        \
    if (!ck_s_.ok()) return ck_s_; \
  } while (0)

Status ParsePart(const json::Value& v, const std::string& path, QueuePart* p, bool placeholder_ok = false) {
  auto bad = [&](const std::string& what) { return Status::CorruptData("upload state: " + path + ": " + what); };
  if (v.type != json::Value::Type::kArray || v.items.size() != 3) return bad("expected [size, sha256, confirmed]");
  const auto& size = v.items[0];
  const auto& sha = v.items[1];
  const auto& conf = v.items[2];
  // firstPartLast: part 0 not added yet.
  if (placeholder_ok && size.type == json::Value::Type::kInt && size.i == 0 && sha.type == json::Value::Type::kString &&
      sha.s.empty() && conf.type == json::Value::Type::kInt && conf.i == 0) {
    *p = QueuePart{0, "", false};
    return Status::Ok();
  }
  if (size.type != json::Value::Type::kInt || size.i < 1 || uint64_t(size.i) > kMaxQueuePartBytes) {
    return bad("size must be an integer between 1 and " + std::to_string(kMaxQueuePartBytes));
  }
  if (sha.type != json::Value::Type::kString || !IsSha256Hex(sha.s)) return bad("sha256 must be 64 lowercase hex characters");
  if (conf.type != json::Value::Type::kInt || (conf.i != 0 && conf.i != 1)) return bad("confirmed must be 0 or 1");
  p->size = uint64_t(size.i);
  p->sha256 = sha.s;
  p->confirmed = conf.i == 1;
  return Status::Ok();
}

Status ParseItem(const json::Value& v, const std::string& path, QueueItem* it) {
  Fields f(v, path);
  CK_TRY(f.Only({"id", "kind", "state", "metadata", "bytes", "finished", "session", "failures", "retryAt", "authGrace",
                 "sessionGrace", "error", "errorMessage", "result", "parts", "firstPartLast"}));
  if (v.Find("firstPartLast")) CK_TRY(f.Bool("firstPartLast", &it->first_part_last));
  CK_TRY(f.String("id", kMaxItemIdBytes, &it->id));
  if (it->id.empty()) return f.Bad("id", "empty");
  std::string name;
  CK_TRY(f.String("kind", 16, &name));
  if (!ParseItemKind(name, &it->kind)) return f.Bad("kind", "unknown kind \"" + name + "\"");
  CK_TRY(f.String("state", 16, &name));
  if (!ParseItemState(name, &it->state)) return f.Bad("state", "unknown state \"" + name + "\"");
  CK_TRY(f.String("metadata", kMaxMetadataBytes, &it->metadata));
  CK_TRY(f.Uint("bytes", int64_t(kMaxScreenshotBytes), &it->bytes));
  CK_TRY(f.Bool("finished", &it->recording_finished));
  CK_TRY(f.String("session", kMaxSessionIdBytes, &it->session_id));
  CK_TRY(f.Uint("failures", 1000, &it->failures));
  CK_TRY(f.Int("retryAt", 0, kMaxTimeMs, &it->retry_at));
  CK_TRY(f.Bool("authGrace", &it->auth_grace_used));
  CK_TRY(f.Bool("sessionGrace", &it->session_grace_used));
  CK_TRY(f.String("error", 32, &it->last_error));
  FailureKind fk;
  if (!it->last_error.empty() && !ParseFailureKind(it->last_error, &fk)) {
    return f.Bad("error", "unknown failure kind \"" + it->last_error + "\"");
  }
  CK_TRY(f.String("errorMessage", kMaxErrorMessageBytes, &it->last_error_message));
  CK_TRY(f.String("result", kMaxResultBytes, &it->result));
  const json::Value* parts;
  CK_TRY(f.Get("parts", &parts, json::Value::Type::kArray));
  if (parts->items.size() > kMaxPartsPerItem) return f.Bad("parts", "more than " + std::to_string(kMaxPartsPerItem));
  it->parts.resize(parts->items.size());
  for (size_t i = 0; i < parts->items.size(); ++i) {
    CK_TRY(ParsePart(parts->items[i], path + ".parts[" + std::to_string(i) + "]", &it->parts[i],
                     i == 0 && it->first_part_last));
  }
  if (it->first_part_last) {
    if (it->kind != ItemKind::kVideo) return f.Bad("firstPartLast", "only videos have parts");
    if (it->parts.empty()) return f.Bad("parts", "firstPartLast needs part 0 (or its placeholder)");
    if (it->recording_finished && it->parts[0].size == 0) return f.Bad("finished", "finished before part 0 was added");
  }
  // Cross-field consistency.
  if (it->kind == ItemKind::kScreenshot) {
    if (it->bytes == 0) return f.Bad("bytes", "a screenshot needs a size");
    if (!it->parts.empty()) return f.Bad("parts", "a screenshot has no parts");
    if (!it->recording_finished) return f.Bad("finished", "a screenshot is always finished");
    if (!it->session_id.empty()) return f.Bad("session", "a screenshot has no session");
  } else {
    if (it->bytes != 0) return f.Bad("bytes", "a video's size is the sum of its parts");
    if (it->state == ItemState::kCompleted) {
      if (!it->recording_finished) return f.Bad("state", "completed but the recording is not finished");
      for (const auto& p : it->parts) {
        if (!p.confirmed) return f.Bad("state", "completed with unconfirmed parts");
      }
    }
    if (it->session_id.empty()) {
      for (const auto& p : it->parts) {
        if (p.confirmed) return f.Bad("parts", "confirmed parts without a session");
      }
    }
  }
  return Status::Ok();
}

Status ParseAuth(const json::Value& v, QueueState* out) {
  Fields a(v, "state.auth");
  CK_TRY(a.Only({"refreshNeeded", "required", "failures", "retryAt"}));
  QueueState st;
  CK_TRY(a.Bool("refreshNeeded", &st.token_refresh_needed));
  CK_TRY(a.Bool("required", &st.auth_required));
  CK_TRY(a.Uint("failures", 1000, &st.refresh_failures));
  CK_TRY(a.Int("retryAt", 0, kMaxTimeMs, &st.refresh_retry_at));
  out->token_refresh_needed = st.token_refresh_needed;
  out->auth_required = st.auth_required;
  out->refresh_failures = st.refresh_failures;
  out->refresh_retry_at = st.refresh_retry_at;
  return Status::Ok();
}

// The top-level fields other than "v" and "items", each on its own (a field that does not read keeps
// *out's value and adds a line to *dropped).
void SalvageTopLevel(const json::Value& root, QueueState* out, std::vector<std::string>* dropped) {
  Fields f(root, "state");
  auto note = [dropped](const Status& s) {
    if (!s.ok()) dropped->push_back(s.message());
  };
  if (root.Find("online")) note(f.Bool("online", &out->online));
  if (root.Find("nextActionId")) {
    int64_t next;
    Status s = f.Int("nextActionId", 1, json::kMaxSafeInteger, &next);
    if (s.ok()) out->next_action_id = uint64_t(next);
    note(s);
  }
  if (root.Find("rng")) {
    std::string rng;
    Status s = f.String("rng", 16, &rng);
    if (s.ok() && !ParseHex64(rng, &out->rng)) s = f.Bad("rng", "expected 16 lowercase hex characters");
    note(s);
  }
  if (const json::Value* auth = root.Find("auth")) note(ParseAuth(*auth, out));
}

// Adds the item if it reads and its id is new; otherwise says why not.
void SalvageItem(const json::Value& v, const std::string& path, QueueState* out, std::unordered_set<std::string>* ids,
                 std::vector<std::string>* dropped) {
  QueueItem it;
  Status s = ParseItem(v, path, &it);
  if (!s.ok()) {
    dropped->push_back(s.message());
    return;
  }
  if (out->items.size() >= kMaxQueueItems) {
    dropped->push_back("upload state: " + path + ": the queue already holds " + std::to_string(kMaxQueueItems) + " items");
    return;
  }
  if (!ids->insert(it.id).second) {
    dropped->push_back("upload state: " + path + ": a second item \"" + it.id + "\" (the first one is kept)");
    return;
  }
  out->items.push_back(std::move(it));
}

// The text is not JSON (truncated, overwritten in places): the top-level fields before the damage, and
// every item found where the writer starts one. Reading stops after about 16 times the text's length
// of failed attempts, so a hostile text cannot make this quadratic.
void SalvageText(const std::string& text, QueueState* out, std::unordered_set<std::string>* ids,
                 std::vector<std::string>* dropped) {
  // Top-level fields, one by one, until the first that does not read.
  json::Value partial;
  partial.type = json::Value::Type::kObject;
  size_t pos = text.find('{');
  if (pos != std::string::npos) {
    ++pos;
    for (;;) {
      while (pos < text.size() && (text[pos] == ' ' || text[pos] == ',' || text[pos] == '\n')) ++pos;
      json::Value key, value;
      size_t end;
      if (!json::ParsePrefix(text, pos, &key, &end, 1).ok() || key.type != json::Value::Type::kString) break;
      if (end >= text.size() || text[end] != ':' || key.s == "items" || partial.Find(key.s)) break;
      if (!json::ParsePrefix(text, end + 1, &value, &end, 4).ok()) break;
      partial.fields.emplace_back(key.s, std::move(value));
      pos = end;
    }
  }
  SalvageTopLevel(partial, out, dropped);

  static const std::string kItemStart = "{\"id\":\"";
  size_t budget = 16 * text.size() + (1u << 20);
  size_t found = 0;
  for (size_t at = text.find(kItemStart); at != std::string::npos; at = text.find(kItemStart, at + 1)) {
    json::Value v;
    size_t end;
    Status s = json::ParsePrefix(text, at, &v, &end, 4);
    const size_t spent = end > at ? end - at : 1;
    const std::string path = "items (the " + std::to_string(++found) + ". found in the text)";
    if (!s.ok()) {
      dropped->push_back("upload state: " + path + ": " + s.message());
      if (spent >= budget) {
        dropped->push_back("upload state: gave up reading after the " + std::to_string(found) + ". item");
        return;
      }
      budget -= spent;
      continue;
    }
    SalvageItem(v, path, out, ids, dropped);
    at = end - 1;
  }
}

}  // namespace

void SalvageQueueState(const std::string& text, QueueState* out, std::vector<std::string>* dropped) {
  out->items.clear();
  std::unordered_set<std::string> ids;
  json::Value root;
  if (!json::Parse(text, &root, 8).ok() || root.type != json::Value::Type::kObject) {
    SalvageText(text, out, &ids, dropped);
    return;
  }
  SalvageTopLevel(root, out, dropped);
  const json::Value* items = root.Find("items");
  if (!items || items->type != json::Value::Type::kArray) {
    dropped->push_back(items ? "upload state: state.items: not an array" : "upload state: state.items: missing");
    return;
  }
  for (size_t i = 0; i < items->items.size(); ++i) {
    SalvageItem(items->items[i], "items[" + std::to_string(i) + "]", out, &ids, dropped);
  }
}

std::string SerializeQueueState(const QueueState& st) {
  json::Writer w;
  w.BeginObject();
  bool first_part_last = false;
  for (const auto& it : st.items) first_part_last = first_part_last || it.first_part_last;
  w.Key("v").Int(first_part_last ? kQueueStateVersionFirstPartLast : kQueueStateVersion);
  w.Key("online").Bool(st.online);
  w.Key("nextActionId").Int(int64_t(st.next_action_id));
  w.Key("rng").String(Hex64(st.rng));
  w.Key("auth").BeginObject();
  w.Key("refreshNeeded").Bool(st.token_refresh_needed);
  w.Key("required").Bool(st.auth_required);
  w.Key("failures").Int(st.refresh_failures);
  w.Key("retryAt").Int(st.refresh_retry_at);
  w.EndObject();
  w.Key("items").BeginArray();
  for (const auto& it : st.items) {
    w.BeginObject();
    w.Key("id").String(it.id);
    w.Key("kind").String(ToString(it.kind));
    w.Key("state").String(ToString(it.state));
    w.Key("metadata").String(it.metadata);
    w.Key("bytes").Int(int64_t(it.bytes));
    w.Key("finished").Bool(it.recording_finished);
    w.Key("session").String(it.session_id);
    w.Key("failures").Int(it.failures);
    w.Key("retryAt").Int(it.retry_at);
    w.Key("authGrace").Bool(it.auth_grace_used);
    w.Key("sessionGrace").Bool(it.session_grace_used);
    w.Key("error").String(it.last_error);
    w.Key("errorMessage").String(it.last_error_message);
    w.Key("result").String(it.result);
    if (it.first_part_last) w.Key("firstPartLast").Bool(true);
    w.Key("parts").BeginArray();
    for (const auto& p : it.parts) {
      w.BeginArray().Int(int64_t(p.size)).String(p.sha256).Int(p.confirmed ? 1 : 0).EndArray();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

Status ParseQueueState(const std::string& text, QueueState* out) {
  *out = QueueState();
  json::Value root;
  Status s = json::Parse(text, &root, 8);
  if (!s.ok()) return Status::CorruptData("upload state: " + s.message());
  Fields f(root, "state");
  if (root.type != json::Value::Type::kObject) return f.Bad("", "expected an object");
  int64_t version;
  CK_TRY(f.Int("v", 0, 1000000, &version));
  if (version != kQueueStateVersion && version != kQueueStateVersionFirstPartLast) {
    return f.Bad("v", "unsupported version " + std::to_string(version) + " (this build reads versions " +
                          std::to_string(kQueueStateVersion) + " and " + std::to_string(kQueueStateVersionFirstPartLast) + ")");
  }
  CK_TRY(f.Only({"v", "online", "nextActionId", "rng", "auth", "items"}));
  CK_TRY(f.Bool("online", &out->online));
  int64_t next;
  CK_TRY(f.Int("nextActionId", 1, json::kMaxSafeInteger, &next));
  out->next_action_id = uint64_t(next);
  std::string rng;
  CK_TRY(f.String("rng", 16, &rng));
  if (!ParseHex64(rng, &out->rng)) return f.Bad("rng", "expected 16 lowercase hex characters");
  const json::Value* auth;
  CK_TRY(f.Get("auth", &auth, json::Value::Type::kObject));
  CK_TRY(ParseAuth(*auth, out));
  const json::Value* items;
  CK_TRY(f.Get("items", &items, json::Value::Type::kArray));
  if (items->items.size() > kMaxQueueItems) return f.Bad("items", "more than " + std::to_string(kMaxQueueItems));
  out->items.resize(items->items.size());
  std::unordered_set<std::string> ids;
  for (size_t i = 0; i < items->items.size(); ++i) {
    CK_TRY(ParseItem(items->items[i], "items[" + std::to_string(i) + "]", &out->items[i]));
    if (!ids.insert(out->items[i].id).second) {
      return Status::CorruptData("upload state: items[" + std::to_string(i) + "]: duplicate id \"" +
                                 out->items[i].id + "\"");
    }
  }
  return Status::Ok();
}

}  // namespace ck
