// libzmq (libzmq3-dev), imported as a system library. No pkgConfig: its cflags trip SwiftPM's
// prohibited-flag warning (see /work/shared/TOOLCHAIN.md "ZeroMQ from Swift").
#include <zmq.h>
