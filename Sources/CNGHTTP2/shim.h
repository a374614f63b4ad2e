// nghttp2 (Debian libnghttp2-dev, 1.52): the HTTP/2 framing, HPACK and flow control under the
// server's HTTP/2 sessions. The ssize_t API is used, not the *2 functions of 1.60+.
#ifndef CNGHTTP2_SHIM_H
#define CNGHTTP2_SHIM_H
#include <nghttp2/nghttp2.h>
#endif
