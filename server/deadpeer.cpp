#include "deadpeer.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace Hermes::DeadPeer {

static bool set(int fd, int level, int option, int value)
{
    return ::setsockopt(fd, level, option, &value, sizeof value) == 0;
}

bool probeWhenSilent(int fd, int idleSec, int intervalSec, int count)
{
    // All four, even when one fails: each that is set still helps.
    const bool on = set(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
    const bool idle = set(fd, IPPROTO_TCP, TCP_KEEPIDLE, idleSec);
    const bool interval = set(fd, IPPROTO_TCP, TCP_KEEPINTVL, intervalSec);
    const bool probes = set(fd, IPPROTO_TCP, TCP_KEEPCNT, count);
    return on && idle && interval && probes;
}

bool acceptedConnection(int fd)
{
    return probeWhenSilent(fd, KeepIdleSec, KeepIntervalSec, KeepCount);
}

} // namespace Hermes::DeadPeer
