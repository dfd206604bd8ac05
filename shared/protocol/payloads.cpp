#include "protocol/payloads.h"

#include "jsonwriter.h"

#include <QJsonDocument>

#include <limits>

namespace Hermes {

// Member names, once each.
namespace Key {
#define HERMES_KEY(name, text) static const QString name = QStringLiteral(text);
HERMES_KEY(Action, "action")
HERMES_KEY(Attempt, "attempt")
HERMES_KEY(Active, "active")
HERMES_KEY(Attempts, "attempts")
HERMES_KEY(CompletedAt, "completed_at")
HERMES_KEY(ConnectionId, "connection_id")
HERMES_KEY(CreatedAt, "created_at")
HERMES_KEY(Data, "data")
HERMES_KEY(DownloadId, "download_id")
HERMES_KEY(DownloadedBytes, "downloaded_bytes")
HERMES_KEY(ErrorMessage, "error_message")
HERMES_KEY(Eta, "eta")
HERMES_KEY(FileSize, "file_size")
HERMES_KEY(Filename, "filename")
HERMES_KEY(HeartbeatInterval, "heartbeat_interval")
HERMES_KEY(Id, "id")
HERMES_KEY(LastEventId, "last_event_id")
HERMES_KEY(MaxAttempts, "max_attempts")
HERMES_KEY(Message, "message")
HERMES_KEY(NextAttemptAt, "next_attempt_at")
HERMES_KEY(Note, "note")
HERMES_KEY(NotificationType, "notification_type")
HERMES_KEY(Percentage, "percentage")
HERMES_KEY(Position, "position")
HERMES_KEY(Priority, "priority")
HERMES_KEY(Paused, "paused")
HERMES_KEY(Phase, "phase")
HERMES_KEY(Progress, "progress")
HERMES_KEY(QueueLength, "queue_length")
HERMES_KEY(Queued, "queued")
HERMES_KEY(Reason, "reason")
HERMES_KEY(Result, "result")
HERMES_KEY(Sha256, "sha256")
HERMES_KEY(Speed, "speed")
HERMES_KEY(Status, "status")
HERMES_KEY(Timestamp, "timestamp")
HERMES_KEY(Title, "title")
HERMES_KEY(TotalSpeed, "total_speed")
HERMES_KEY(TotalBytes, "total_bytes")
HERMES_KEY(Type, "type")
HERMES_KEY(UpdatedAt, "updated_at")
HERMES_KEY(Url, "url")
#undef HERMES_KEY
} // namespace Key

static QJsonValue nullable(const QString &s)
{
    return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}

static QJsonValue nullable(const std::optional<qint64> &v)
{
    return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}

static std::optional<double> optionalNumber(const QJsonObject &o, const QString &key)
{
    const QJsonValue v = o.value(key);
    return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
}

static std::optional<qint64> optionalInteger(const QJsonObject &o, const QString &key)
{
    const QJsonValue v = o.value(key);
    return v.isDouble() ? std::optional<qint64>(v.toInteger()) : std::nullopt;
}

// A whole number: absent when the member is missing, not a number, or not whole (12.5 bytes
// is no count: a client keeps what it had).
static std::optional<qint64> optionalWholeNumber(const QJsonObject &o, const QString &key)
{
    const QJsonValue v = o.value(key);
    constexpr qint64 none = std::numeric_limits<qint64>::min();
    const qint64 n = v.isDouble() ? v.toInteger(none) : none;
    return n == none ? std::nullopt : std::optional<qint64>(n);
}

// A member that may be null: present (null is an empty string) or absent.
static std::optional<QString> optionalText(const QJsonObject &o, const QString &key)
{
    if (!o.contains(key))
        return std::nullopt;
    return o.value(key).toString();
}

QDateTime parseTimestamp(const QJsonValue &value)
{
    return value.isString() ? parseIsoTimestamp(value.toString()) : QDateTime();
}

std::optional<ReceivedStatus> ReceivedStatus::from(const QJsonValue &value)
{
    if (!value.isString())
        return std::nullopt;
    const QString text = value.toString();
    return ReceivedStatus{fromWire<DownloadStatus>(text), text};
}

// --- progress ------------------------------------------------------------------------------

QJsonObject DownloadProgressInfo::toJson() const
{
    return {{Key::Percentage, percentage.value_or(0)},
            {Key::Status, status ? status->text : QString()},
            {Key::DownloadedBytes, downloadedBytes.value_or(0)},
            {Key::TotalBytes, nullable(totalBytes)},
            {Key::Speed, speed},
            {Key::Eta, nullable(eta)}};
}

DownloadProgressInfo DownloadProgressInfo::fromJson(const QJsonObject &o)
{
    DownloadProgressInfo p;
    p.percentage = optionalNumber(o, Key::Percentage);
    p.status = ReceivedStatus::from(o.value(Key::Status));
    p.downloadedBytes = optionalWholeNumber(o, Key::DownloadedBytes);
    p.totalBytes = optionalInteger(o, Key::TotalBytes);
    p.speed = o.value(Key::Speed).toDouble();
    p.eta = optionalInteger(o, Key::Eta);
    return p;
}

// --- phase ---------------------------------------------------------------------------------

void DownloadPhaseInfo::writeTo(QJsonObject &o) const
{
    o.insert(Key::Phase, nullable(phaseText));
    o.insert(Key::Attempt, attempt ? QJsonValue(*attempt) : QJsonValue());
    o.insert(Key::MaxAttempts, maxAttempts ? QJsonValue(*maxAttempts) : QJsonValue());
    o.insert(Key::NextAttemptAt, nextAttemptAt.isValid() ? QJsonValue(isoTimestamp(nextAttemptAt)) : QJsonValue());
}

std::optional<DownloadPhaseInfo> DownloadPhaseInfo::readFrom(const QJsonObject &o)
{
    if (!o.contains(Key::Phase))
        return std::nullopt;
    DownloadPhaseInfo p;
    p.phaseText = o.value(Key::Phase).toString();
    p.phase = fromWire<DownloadPhase>(p.phaseText);
    if (const auto attempt = optionalInteger(o, Key::Attempt))
        p.attempt = int(*attempt);
    if (const auto max = optionalInteger(o, Key::MaxAttempts))
        p.maxAttempts = int(*max);
    p.nextAttemptAt = parseTimestamp(o.value(Key::NextAttemptAt));
    return p;
}

QJsonObject DownloadResult::toJson() const
{
    return {{Key::Url, url}, {Key::Title, title}, {Key::FileSize, fileSize}};
}

// --- events ----------------------------------------------------------------------------------

QJsonObject DownloadProgressEvent::toJson() const
{
    QJsonObject o{{Key::DownloadId, downloadId},
                  {Key::Status, status ? status->text : QString()},
                  {Key::Progress, progress ? progress->toJson() : QJsonObject()},
                  {Key::ErrorMessage, nullable(errorMessage.value_or(QString()))},
                  {Key::Filename, filename.value_or(QString())},
                  {Key::Url, url.value_or(QString())},
                  {Key::Attempts, attempts.value_or(0)},
                  {Key::Note, nullable(note.value_or(QString()))}};
    if (phase)
        phase->writeTo(o);
    if (result)
        o.insert(Key::Result, result->toJson());
    return o;
}

DownloadProgressEvent DownloadProgressEvent::fromJson(const QJsonObject &o)
{
    DownloadProgressEvent e;
    e.downloadId = o.value(Key::DownloadId).toString();
    e.status = ReceivedStatus::from(o.value(Key::Status));
    const QJsonObject progress = o.value(Key::Progress).toObject();
    if (!progress.isEmpty())
        e.progress = DownloadProgressInfo::fromJson(progress);
    e.errorMessage = optionalText(o, Key::ErrorMessage);
    e.filename = optionalText(o, Key::Filename);
    e.url = optionalText(o, Key::Url);
    if (const auto attempts = optionalInteger(o, Key::Attempts))
        e.attempts = int(*attempts);
    e.note = optionalText(o, Key::Note);
    e.phase = DownloadPhaseInfo::readFrom(o);
    const QJsonObject result = o.value(Key::Result).toObject();
    if (!result.isEmpty())
        e.result = DownloadResult{result.value(Key::Url).toString(), result.value(Key::Title).toString(),
                                  result.value(Key::FileSize).toInteger()};
    return e;
}

QJsonObject QueueUpdateEvent::toJson() const
{
    QJsonObject o{{Key::Action, action ? QString(wireName(*action)) : actionText},
                  {Key::DownloadId, downloadId},
                  {Key::Status, status ? status->text : QString()},
                  {Key::QueueLength, queueLength},
                  {Key::Active, active}};
    if (priority)
        o.insert(Key::Priority, *priority);
    if (position)
        o.insert(Key::Position, *position);
    if (createdAt.isValid())
        o.insert(Key::CreatedAt, isoTimestamp(createdAt));
    return o;
}

QueueUpdateEvent QueueUpdateEvent::fromJson(const QJsonObject &o)
{
    QueueUpdateEvent e;
    e.actionText = o.value(Key::Action).toString();
    e.action = fromWire<QueueAction>(e.actionText);
    e.downloadId = o.value(Key::DownloadId).toString();
    e.status = ReceivedStatus::from(o.value(Key::Status));
    e.queueLength = o.value(Key::QueueLength).toInt();
    e.active = o.value(Key::Active).toInt();
    if (const auto priority = optionalInteger(o, Key::Priority))
        e.priority = int(*priority);
    e.position = optionalInteger(o, Key::Position);
    e.createdAt = parseTimestamp(o.value(Key::CreatedAt));
    return e;
}

QJsonObject QueueSummary::toJson() const
{
    return {{Key::Active, active}, {Key::Queued, queued}, {Key::Paused, paused}, {Key::TotalSpeed, totalSpeed}};
}

QJsonObject SystemNotificationEvent::toJson() const
{
    QJsonObject o{{Key::NotificationType, notificationType ? QString(wireName(*notificationType))
                                                           : notificationTypeText},
                  {Key::Message, message}};
    if (!downloadId.isEmpty())
        o.insert(Key::DownloadId, downloadId);
    return o;
}

SystemNotificationEvent SystemNotificationEvent::fromJson(const QJsonObject &o)
{
    SystemNotificationEvent e;
    e.notificationTypeText = o.value(Key::NotificationType).toString();
    e.notificationType = fromWire<NotificationType>(e.notificationTypeText);
    e.message = o.value(Key::Message).toString();
    e.downloadId = o.value(Key::DownloadId).toString();
    return e;
}

QJsonObject ConnectedEvent::toJson() const
{
    return {{Key::ConnectionId, connectionId},
            {Key::HeartbeatInterval, heartbeatIntervalSec},
            {Key::Timestamp, timestamp}};
}

std::optional<double> ConnectedEvent::heartbeatIntervalOf(const QJsonObject &data)
{
    return optionalNumber(data, Key::HeartbeatInterval);
}

QJsonObject ResyncRequiredEvent::toJson() const
{
    QJsonObject o{{Key::Reason, QString(wireName(reason))}, {Key::Timestamp, timestamp}};
    if (!lastEventId.isEmpty())
        o.insert(Key::LastEventId, lastEventId);
    return o;
}

QJsonObject HeartbeatEvent::toJson() const
{
    return {{Key::Timestamp, timestamp}};
}

// --- the REST download -----------------------------------------------------------------------

QJsonObject DownloadResource::toJson() const
{
    const QJsonObject p = progress ? progress->toJson() : QJsonObject();
    QJsonObject o{{Key::Id, id},
            {Key::Url, url},
            {Key::Filename, filename},
            {Key::Status, status ? status->text : QString()},
            {Key::Priority, priority},
            {Key::Position, position},
            {Key::Progress, p},
            {Key::DownloadedBytes, downloadedBytes},
            {Key::TotalBytes, nullable(totalBytes)},
            {Key::Speed, p.value(Key::Speed)},
            {Key::Eta, p.value(Key::Eta)},
            {Key::Sha256, nullable(sha256)},
            {Key::ErrorMessage, nullable(errorMessage)},
            {Key::Note, nullable(note)},
            {Key::Attempts, attempts},
            {Key::CreatedAt, isoTimestamp(createdAt)},
            {Key::UpdatedAt, updatedAt},
            {Key::CompletedAt, completedAt.isValid() ? QJsonValue(isoTimestamp(completedAt)) : QJsonValue()}};
    if (phase)
        phase->writeTo(o);
    return o;
}

void DownloadResource::writeJson(JsonWriter &w) const
{
    // toJson()'s members in the order QJsonObject keeps them (sorted by name), so both give the
    // same bytes (tst_jsonwriter compares them on random rows). The phase's four members fall
    // between the others' (attempt, max_attempts, next_attempt_at, phase).
    const auto integerOrNull = [](JsonWriter &member, const auto &v) { v ? member.integer(*v) : member.null(); };
    w.beginObject();
    if (phase)
        integerOrNull(w.key(Key::Attempt), phase->attempt);
    w.key(Key::Attempts).integer(attempts);
    if (completedAt.isValid())
        w.key(Key::CompletedAt).string(isoTimestamp(completedAt));
    else
        w.key(Key::CompletedAt).null();
    w.key(Key::CreatedAt).string(isoTimestamp(createdAt));
    w.key(Key::DownloadedBytes).integer(downloadedBytes);
    w.key(Key::ErrorMessage).stringOrNull(errorMessage);
    if (progress)
        integerOrNull(w.key(Key::Eta), progress->eta);
    w.key(Key::Filename).string(filename);
    w.key(Key::Id).string(id);
    if (phase) {
        integerOrNull(w.key(Key::MaxAttempts), phase->maxAttempts);
        if (phase->nextAttemptAt.isValid())
            w.key(Key::NextAttemptAt).string(isoTimestamp(phase->nextAttemptAt));
        else
            w.key(Key::NextAttemptAt).null();
    }
    w.key(Key::Note).stringOrNull(note);
    if (phase)
        w.key(Key::Phase).stringOrNull(phase->phaseText);
    w.key(Key::Position).integer(position);
    w.key(Key::Priority).integer(priority);
    w.key(Key::Progress).beginObject();
    if (progress) {
        const DownloadProgressInfo &p = *progress;
        w.key(Key::DownloadedBytes).integer(p.downloadedBytes.value_or(0));
        integerOrNull(w.key(Key::Eta), p.eta);
        w.key(Key::Percentage).number(p.percentage.value_or(0));
        w.key(Key::Speed).number(p.speed);
        w.key(Key::Status).string(p.status ? p.status->text : QString());
        integerOrNull(w.key(Key::TotalBytes), p.totalBytes);
    }
    w.endObject();
    w.key(Key::Sha256).stringOrNull(sha256);
    if (progress)
        w.key(Key::Speed).number(progress->speed);
    w.key(Key::Status).string(status ? status->text : QString());
    integerOrNull(w.key(Key::TotalBytes), totalBytes);
    w.key(Key::UpdatedAt).string(updatedAt);
    w.key(Key::Url).string(url);
    w.endObject();
}

QByteArray DownloadResource::toJsonBytes() const
{
    QByteArray out;
    JsonWriter w(&out);
    writeJson(w);
    return out;
}

DownloadResource DownloadResource::fromJson(const QJsonObject &o)
{
    DownloadResource d;
    d.id = o.value(Key::Id).toString();
    d.url = o.value(Key::Url).toString();
    d.filename = o.value(Key::Filename).toString();
    d.status = ReceivedStatus::from(o.value(Key::Status));
    d.priority = o.value(Key::Priority).toInt();
    d.position = o.value(Key::Position).toInteger();
    const QJsonObject progress = o.value(Key::Progress).toObject();
    if (!progress.isEmpty())
        d.progress = DownloadProgressInfo::fromJson(progress);
    d.downloadedBytes = o.value(Key::DownloadedBytes).toInteger();
    d.totalBytes = optionalInteger(o, Key::TotalBytes);
    d.sha256 = o.value(Key::Sha256).toString();
    d.errorMessage = o.value(Key::ErrorMessage).toString();
    d.note = o.value(Key::Note).toString();
    d.attempts = o.value(Key::Attempts).toInt();
    d.phase = DownloadPhaseInfo::readFrom(o);
    d.createdAt = parseTimestamp(o.value(Key::CreatedAt));
    d.updatedAt = o.value(Key::UpdatedAt).toString();
    d.completedAt = parseTimestamp(o.value(Key::CompletedAt));
    return d;
}

// --- streams ---------------------------------------------------------------------------------

ReceivedEvent ReceivedEvent::decode(QStringView sseType, const QString &data)
{
    const QJsonObject object = QJsonDocument::fromJson(data.toUtf8()).object();
    ReceivedEvent e;
    // An SSE frame without `event:` has the type "message" (WHATWG): Hermes' envelope style,
    // whose data is {"type","data","timestamp"}. The named style has `event: <type>` and the
    // inner object as data.
    if (sseType == u"message") {
        e.type = object.value(Key::Type).toString();
        e.data = object.value(Key::Data).toObject();
        e.timestamp = object.value(Key::Timestamp).toString();
    } else {
        e.type = sseType.toString();
        e.data = object;
        e.timestamp = object.value(Key::Timestamp).toString();
    }
    return e;
}

} // namespace Hermes
