#ifndef CBUILDINFO_H
#define CBUILDINFO_H

/// The git commit this binary was built from: scripts/release passes
/// `-Xcc -DGATEWAY_BUILD_COMMIT="..."`; other builds say "unknown".
const char *gateway_build_commit(void);

#endif
