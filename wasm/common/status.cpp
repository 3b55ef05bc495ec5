#include "common/status.h"

namespace ck {

const char* Status::js_error_name() const {
  switch (code_) {
    case Code::kInvalidArgument: return "TypeError";
    case Code::kOutOfRange: return "RangeError";
    default: return "Error";
  }
}

}  // namespace ck
