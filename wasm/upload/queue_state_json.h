// The upload queue's persisted form: one compact JSON object, versioned, read back with full validation
// (a corrupt or truncated string is CorruptData, never a crash). Schema, version 1:
//
// {"v":1,"online":true,"nextActionId":1,"rng":"<16 hex>",
//  "auth":{"refreshNeeded":false,"required":false,"failures":0,"retryAt":0},
//  "items":[{"id":"..","kind":"screenshot"|"video","state":"pending"|..,"metadata":"..","bytes":0,
//            "finished":true,"session":"","failures":0,"retryAt":0,"authGrace":false,"sessionGrace":false,
//            "error":"","errorMessage":"","result":"","parts":[[size,"<sha256 hex>",0|1],...]}]}
#pragma once
#include <string>
#include <vector>

#include "common/status.h"
#include "upload/upload_queue.h"

namespace ck {

std::string SerializeQueueState(const QueueState& state);
// Parses and validates; *out is only meaningful when the result is ok.
Status ParseQueueState(const std::string& json, QueueState* out);

// For a state ParseQueueState rejects: everything that still reads. Each item is read and validated
// on its own: from the "items" array when the text is JSON, else from every place in the text where
// the writer starts an item ({"id":"...). Kept: the items that pass, in text order, the first of
// repeated ids, at most kMaxQueueItems; the top-level fields that pass (the rest keep *out's values,
// so the caller sets its defaults first). One line per thing that could not be read goes to *dropped.
// The result always passes ParseQueueState once serialized.
void SalvageQueueState(const std::string& json, QueueState* out, std::vector<std::string>* dropped);

}  // namespace ck
