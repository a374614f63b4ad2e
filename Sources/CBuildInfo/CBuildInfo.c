#include "CBuildInfo.h"

#ifndef GATEWAY_BUILD_COMMIT
#define GATEWAY_BUILD_COMMIT "unknown"
#endif

const char *gateway_build_commit(void) { return GATEWAY_BUILD_COMMIT; }
