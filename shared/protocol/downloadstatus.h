#pragma once

#include "protocol/vocabulary.h"

#include <QList>

#include <optional>

namespace Hermes {

/// The statuses of the Python Hermes, plus paused.
enum class DownloadStatus : quint8 {
    Pending,
    Downloading,
    Processing, ///< verifying (SHA-256) and moving into place
    Paused,
    Completed,
    Failed,
    Cancelled,
};
inline constexpr int DownloadStatusCount = 7;

/**
 * What a download is doing within its status: Hermes' addition (the `phase` member of
 * download_progress and of the REST download), so the statuses stay the Python Hermes' and a
 * client that does not know phases loses nothing. Set only where it says more than the status:
 *
 * - downloading: waiting_for_connection (queued behind HERMES_DOWNLOAD_CONNECTIONS_PER_HOST),
 *   connecting (the request is out, no response headers yet), transferring, stalled (no byte
 *   for HERMES_DOWNLOAD_STALLED_AFTER);
 * - pending: retrying (a transient failure; the next attempt is due at `next_attempt_at`).
 */
enum class DownloadPhase : quint8 { WaitingForConnection, Connecting, Transferring, Stalled, Retrying };
inline constexpr int DownloadPhaseCount = 5;

/// What a client may ask of a download (`POST /api/v1/downloads/{id}/<action>`).
enum class DownloadAction : quint8 { Pause, Resume, Cancel, Retry };
inline constexpr int DownloadActionCount = 4;

QLatin1StringView wireName(DownloadStatus status);
QLatin1StringView wireName(DownloadAction action);
QLatin1StringView wireName(DownloadPhase phase);
template<> std::optional<DownloadStatus> fromWire<DownloadStatus>(QStringView text);
template<> std::optional<DownloadAction> fromWire<DownloadAction>(QStringView text);
template<> std::optional<DownloadPhase> fromWire<DownloadPhase>(QStringView text);

/// Every status, and every action, in order.
QList<DownloadStatus> allDownloadStatuses();
QList<DownloadAction> allDownloadActions();

/**
 * The rules of a download's life, once: which action applies to which status and what it
 * leads to. The server enforces them (a refused action is 409); the monitor enables its
 * actions from them, so it never offers what the server would refuse.
 *
 * - pause: pending or downloading → paused
 * - resume: paused → pending
 * - cancel: anything not completed, cancelled or being verified → cancelled
 * - retry: failed or cancelled → pending
 * - reordering (priority): any download that is not finished
 */
namespace DownloadRules {

/// The status `action` leads to from `from`, or nothing when it does not apply.
std::optional<DownloadStatus> after(DownloadStatus from, DownloadAction action);
inline bool allows(DownloadStatus from, DownloadAction action)
{
    return after(from, action).has_value();
}
/// The statuses `action` applies to (what "Pause All" pauses).
QList<DownloadStatus> appliesTo(DownloadAction action);

/// Completed, failed or cancelled: nothing runs, it has no place in the queue.
constexpr bool isFinished(DownloadStatus s)
{
    return s == DownloadStatus::Completed || s == DownloadStatus::Failed
        || s == DownloadStatus::Cancelled;
}
/// Transferring or verifying: a node runs it.
constexpr bool isActive(DownloadStatus s)
{
    return s == DownloadStatus::Downloading || s == DownloadStatus::Processing;
}
/// Its priority may change (it has a place in the queue).
constexpr bool canReorder(DownloadStatus s)
{
    return !isFinished(s);
}

} // namespace DownloadRules

} // namespace Hermes
