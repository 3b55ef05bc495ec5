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

#include "common/status.h"
#include "upload/upload_queue.h"

namespace ck {

std::string SerializeQueueState(const QueueState& state);
// Parses and validates; *out is only meaningful when the result is ok.
Status ParseQueueState(const std::string& json, QueueState* out);

}  // namespace ck
