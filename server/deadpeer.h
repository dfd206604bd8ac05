#pragma once

namespace Hermes {

/**
 * How long a TCP connection to a peer that vanished without a FIN or RST (a laptop shut or
 * suspended, a NAT or firewall that dropped the mapping, a pulled cable) may stay open.
 *
 * Linux's defaults keep such a connection for 2 h 11 min while nothing is sent (keepalive is
 * off until a socket asks, then probes after 7,200 s) and for ≈ 15 min once data waits for an
 * acknowledgement (tcp_retries2 = 15 retransmissions): a stream to a vanished client would hold
 * its slot, its per-key quota and its buffers that long. Every accepted connection gets
 * keepalive (acceptedConnection()); a stream, which sends a heartbeat at least every
 * HERMES_SSE_HEARTBEAT_INTERVAL seconds, also gets a limit on data left unacknowledged
 * (limitUnacknowledged()) of HERMES_SSE_SEND_TIMEOUT + one heartbeat interval, so it ends
 * within 2 × heartbeat + send timeout (2 min by default) of its client vanishing. The interval
 * more than the send timeout: Linux applies the limit to a zero window too (a live client that
 * reads nothing), and such a client is the send timeout's to drop, counted as a slow client —
 * that timeout counts from when the server's own buffer is full, later than the kernel's.
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
/// TCP_USER_TIMEOUT: data the peer leaves unacknowledged for `seconds` ends the connection
/// (ETIMEDOUT), and with keepalive it also bounds a silent connection to `seconds` (tcp(7)).
bool limitUnacknowledged(int fd, int seconds);

} // namespace DeadPeer
} // namespace Hermes
