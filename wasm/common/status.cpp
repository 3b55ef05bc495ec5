#include "common/status.h"

#include <cmath>
#include <cstdint>

namespace ck {

const char* Status::js_error_name() const {
  switch (code_) {
    case Code::kInvalidArgument: return "TypeError";
    case Code::kOutOfRange: return "RangeError";
    default: return "Error";
  }
}

std::string NumberText(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  std::string out = v < 0 ? "-" : "";
  double a = std::fabs(v);
  double whole = std::floor(a);
  uint64_t frac = uint64_t(std::floor((a - whole) * 1e6 + 0.5));  // millionths
  if (frac >= 1000000) {
    whole += 1;
    frac = 0;
  }
  if (whole >= 18446744073709551616.0) {  // past uint64: mantissa and exponent (no pow/log10 tables)
    int exp10 = 0;
    while (a >= 10) a /= 10, ++exp10;
    return out + NumberText(a) + "e+" + std::to_string(exp10);
  }
  if (whole == 0 && frac == 0) return "0";
  out += std::to_string(uint64_t(whole));
  if (frac != 0) {
    char digits[7] = {};
    for (int i = 5; i >= 0; --i, frac /= 10) digits[i] = char('0' + frac % 10);
    int n = 6;
    while (digits[n - 1] == '0') --n;
    out += '.';
    out.append(digits, size_t(n));
  }
  return out;
}

}  // namespace ck
