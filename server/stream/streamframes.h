#pragma once

#include "eventid.h"
#include "protocol/vocabulary.h"
#include "sseencoder.h"

#include <QByteArray>

namespace Hermes {

/**
 * The bytes a stream gets besides the events it asked for: `connected`, `resync_required`,
 * `heartbeat`, the comment of a stream waiting for the history, the clean end; and the HTTP
 * chunk framing of all of them. Built from the protocol's payloads (shared/protocol), so a
 * stream speaks the same words as every client.
 */
namespace StreamFrames {

/// One HTTP chunk holding `payload`.
QByteArray chunk(const QByteArray &payload);

/// The `connected` event of a stream that starts at `at` (see StreamWorker::addStream()).
QByteArray connected(EventId at, int heartbeatIntervalSec, EventStyle style);
/// `resync_required` for `reason`, answering `lastEventId` (empty: none; at most 64 bytes
/// of it are repeated), with id `at`: where the stream goes on from.
QByteArray resyncRequired(ResyncReason reason, const QByteArray &lastEventId, EventId at,
                          EventStyle style);
/// A `heartbeat` event (named, whatever the stream's style, and without an id).
QByteArray heartbeat();
/// The comment a stream waiting for the history gets instead of heartbeats (`chunked`: in
/// one HTTP chunk).
const QByteArray &waitingComment(bool chunked);
/// The clean end of a stream: the retry hint, then (`chunked`) the terminating chunk.
QByteArray end(int retryMs, bool chunked);

} // namespace StreamFrames

} // namespace Hermes
