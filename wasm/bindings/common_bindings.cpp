// Error reporting and the Bytes result type, registered once in the core module.
#include "bindings/binding_util.h"

CK_REGISTER_COMMON_BINDINGS()
