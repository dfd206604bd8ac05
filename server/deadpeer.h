#pragma once

namespace Hermes {

/**
 * How long a TCP connection to a peer that vanished without a FIN or RST (a laptop shut or
 * suspended, a NAT or firewall that dropped the mapping, a pulled cable) may stay open.
 *
 * Linux's defaults keep such a connection for 2 h 11 min while nothing is sent (keepalive is
 * off until a socket asks, then probes after 7,200 s). Every accepted connection gets
 * keepalive (acceptedConnection()): an idle one whose peer is gone ends 60 s after it went
 * silent. A stream is never idle (heartbeats); it ends by the send timeout once its buffer is
 * full, or after TCP's retransmissions. Not TCP_USER_TIMEOUT: Linux applies it to a closed
 * receive window too and ends the connection without a RST, so a live client that paused
 * reading was left waiting on a stream that was gone.
 */
namespace DeadPeer {

/// Keepalive on an accepted connection: a connection silent for KeepIdleSec gets a probe, then
/// one every KeepIntervalSec; KeepCount unanswered end it, 60 s after its peer went silent.
inline constexpr int KeepIdleSec = 30;
inline constexpr int KeepIntervalSec = 10;
inline constexpr int KeepCount = 3;

/// Keepalive probes (SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT) on a connected TCP socket. False
/// when the system refused one (the socket is not TCP).
bool probeWhenSilent(int fd, int idleSec, int intervalSec, int count);
/// probeWhenSilent() with the values above: for every accepted connection.
bool acceptedConnection(int fd);

} // namespace DeadPeer
} // namespace Hermes
