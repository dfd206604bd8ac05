#pragma once

#include "protocol/downloadstatus.h"
#include "protocol/timestamp.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace Hermes {

class JsonWriter;

/**
 * The payloads of the events Hermes sends, and of the REST download, as types: the server
 * builds them and calls toJson(); clients call fromJson() and never read a member by name.
 *
 * The field names and shapes are the Python Hermes' (see README "Downloads"), with Hermes'
 * additions marked. fromJson() is lenient the way a client must be: a member that is missing
 * or of another type is absent (an optional left empty), never an error, so an event from an
 * older or newer server still updates what it can.
 */

/// A download status as a client received it: `known` when this version knows the word, and
/// the word itself (a status of a newer server is shown as it is sent).
struct ReceivedStatus
{
    std::optional<DownloadStatus> known;
    QString text;

    static ReceivedStatus of(DownloadStatus status) { return {status, wireName(status)}; }
    /// Absent when the member was missing (or not a string).
    static std::optional<ReceivedStatus> from(const QJsonValue &value);
};

/// The `progress` object of download_progress and of the REST download.
struct DownloadProgressInfo
{
    std::optional<double> percentage;       ///< 0–100, never decreasing while a download runs
    std::optional<ReceivedStatus> status;
    std::optional<qint64> downloadedBytes;
    std::optional<qint64> totalBytes;       ///< null on the wire when unknown
    double speed = 0;                       ///< B/s; a missing speed is 0
    std::optional<qint64> eta;              ///< seconds; null on the wire when unknown

    QJsonObject toJson() const;
    static DownloadProgressInfo fromJson(const QJsonObject &object);
};

/// Hermes' addition to download_progress and the REST download: what a download is doing
/// within its status (DownloadPhase), with the attempt it is at. On the wire: `phase`,
/// `attempt`, `max_attempts` and `next_attempt_at`, each null when it does not apply.
struct DownloadPhaseInfo
{
    std::optional<DownloadPhase> phase;        ///< none: the status says it all (or a newer server's phase)
    QString phaseText;                          ///< as sent (a newer server's phase is shown as sent)
    std::optional<int> attempt;                 ///< 1-based: the attempt running, or waiting to run
    std::optional<int> maxAttempts;             ///< none: only the retry window limits
    QDateTime nextAttemptAt;                    ///< retrying: when the next attempt is due

    static DownloadPhaseInfo of(DownloadPhase phase)
    {
        DownloadPhaseInfo p;
        p.phase = phase;
        p.phaseText = wireName(phase);
        return p;
    }
    bool isEmpty() const { return phaseText.isEmpty(); }
    void writeTo(QJsonObject &object) const;
    /// Absent when the object has no `phase` member (a server without phases).
    static std::optional<DownloadPhaseInfo> readFrom(const QJsonObject &object);
};

/// `result` of a completed download's download_progress.
struct DownloadResult
{
    QString url;
    QString title;
    qint64 fileSize = 0;

    QJsonObject toJson() const;
};

/// download:updates / download_progress.
struct DownloadProgressEvent
{
    QString downloadId;
    std::optional<ReceivedStatus> status;
    std::optional<DownloadProgressInfo> progress; ///< absent (or an empty object): not sent
    std::optional<QString> errorMessage;          ///< null on the wire: an empty string
    std::optional<QString> filename;
    std::optional<QString> url;
    std::optional<int> attempts;                  ///< Hermes' addition
    std::optional<QString> note;                  ///< Hermes' addition (why it restarted …); null: none
    std::optional<DownloadPhaseInfo> phase;       ///< Hermes' addition; absent: not sent
    std::optional<DownloadResult> result;         ///< completed downloads only

    QJsonObject toJson() const;
    static DownloadProgressEvent fromJson(const QJsonObject &data);
};

/// queue:updates / queue_update.
struct QueueUpdateEvent
{
    QString actionText;                    ///< as sent
    std::optional<QueueAction> action;
    QString downloadId;
    std::optional<ReceivedStatus> status;
    int queueLength = 0;
    int active = 0;
    std::optional<int> priority;           ///< Hermes' addition, like the two below
    std::optional<qint64> position;
    QDateTime createdAt;                   ///< invalid when absent

    QJsonObject toJson() const;
    static QueueUpdateEvent fromJson(const QJsonObject &data);
};

/// The figures of the queue over every node: `summary` of `GET /api/v1/queue`, and what the
/// download metrics read.
struct QueueSummary
{
    int active = 0;                        ///< transferring or verifying
    int queued = 0;                        ///< pending
    int paused = 0;
    double totalSpeed = 0;                 ///< B/s, as the running nodes last saved it

    QJsonObject toJson() const;
};

/// system:notifications / system_notification.
struct SystemNotificationEvent
{
    QString notificationTypeText;          ///< as sent
    std::optional<NotificationType> notificationType;
    QString message;
    QString downloadId;                    ///< empty: about no download

    QJsonObject toJson() const;
    static SystemNotificationEvent fromJson(const QJsonObject &data);
};

/// `connected`: the first event of every stream (heartbeat_interval is Hermes' addition).
struct ConnectedEvent
{
    QString connectionId;
    int heartbeatIntervalSec = 0;
    QString timestamp;

    QJsonObject toJson() const;
    /// The interval the server announced, or nothing.
    static std::optional<double> heartbeatIntervalOf(const QJsonObject &data);
};

/// `resync_required`: the resume point cannot be served; reload over REST.
struct ResyncRequiredEvent
{
    ResyncReason reason = ResyncReason::HistoryExceeded;
    QString lastEventId;                   ///< empty: not sent
    QString timestamp;

    QJsonObject toJson() const;
};

/// `heartbeat`.
struct HeartbeatEvent
{
    QString timestamp;

    QJsonObject toJson() const;
};

/// The member of `POST /api/v1/downloads` that holds a list of downloads to add, and of its
/// answer, the downloads added: `{"downloads": [...]}` (the word is a channel's name too).
inline constexpr QLatin1StringView DownloadListMember("downloads");

/// A download as `GET /api/v1/downloads/{id}` shows it.
struct DownloadResource
{
    QString id;
    QString url;
    QString filename;
    std::optional<ReceivedStatus> status;
    int priority = 0;
    qint64 position = 0;
    std::optional<DownloadProgressInfo> progress;
    qint64 downloadedBytes = 0;
    std::optional<qint64> totalBytes;
    QString sha256;                        ///< empty: none (null on the wire)
    QString errorMessage;                  ///< empty: none (null on the wire)
    QString note;                          ///< empty: none (null on the wire)
    int attempts = 0;
    std::optional<DownloadPhaseInfo> phase; ///< Hermes' addition; absent: not sent
    QDateTime createdAt;
    QString updatedAt;                     ///< ISO-8601 as sent (clients compare it as text)
    QDateTime completedAt;                 ///< invalid: not completed (null on the wire)

    /// `speed` and `eta` at the top level repeat the progress object's.
    QJsonObject toJson() const;
    /// The same JSON as toJson(), byte for byte, written straight into `out` without building
    /// the object: what list pages and the queue send for each of their rows (issue 27).
    void writeJson(JsonWriter &out) const;
    QByteArray toJsonBytes() const;
    static DownloadResource fromJson(const QJsonObject &object);
};

/// An event as a stream client received it, in either style (README "Wire format").
struct ReceivedEvent
{
    QString type;
    QJsonObject data;
    QString timestamp;

    /// `sseType` is the SSE event type (`message` when the frame had no `event:` line: the
    /// envelope style), `data` the frame's data.
    static ReceivedEvent decode(QStringView sseType, const QString &data);
};

/// Parses an ISO-8601 timestamp (invalid when `value` is not one; parseIsoTimestamp()).
QDateTime parseTimestamp(const QJsonValue &value);

} // namespace Hermes
