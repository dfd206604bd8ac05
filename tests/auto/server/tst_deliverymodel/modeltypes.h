#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QRandomGenerator>
#include <QSet>
#include <QString>

// The vocabulary of the delivery model test: events as the log holds them, what a stream
// asks for, and what a publish did.
namespace Model {

enum ChannelBit : quint8 {
    Downloads = 1,
    Queue = 2,
    System = 4,
    AllChannels = 7,
};
QString channelName(quint8 bit);
/// 0 for an unknown name.
quint8 channelFromName(QStringView name);
/// The event types the test publishes on a channel (two each, so type filters matter).
QStringList typesOf(quint8 bit);
/// The download ids used in event data (a small set, so per-download streams get traffic).
QStringList downloadIds();

/// One event of the deployment's log, in the log's order. Ids are opaque strings.
struct LogEntry
{
    QString id;
    quint8 channel = 0;
    QString type;
    QJsonObject data;
    QString timestamp;
    qint64 seq = -1;       ///< data.seq: the test's unique number for the publish
    QString downloadId;    ///< data.download_id when it is a string
};

/// What a stream must see: the server's filter semantics, modelled independently.
struct Filter
{
    quint8 channels = AllChannels;
    QSet<QString> types; ///< empty: every type
    QString downloadId;  ///< non-empty: only events whose data.download_id is this

    bool matches(const LogEntry &e) const
    {
        return (e.channel & channels) && (types.isEmpty() || types.contains(e.type))
            && (downloadId.isEmpty() || e.downloadId == downloadId);
    }
};

/// One client's stream: endpoint, filter parameters, style and credential.
struct ClientSpec
{
    enum class Endpoint { Stream, Queue, Download };
    Endpoint endpoint = Endpoint::Stream;
    QStringList channelNames; ///< ?channels= items (short or full names); empty: no parameter
    QStringList types;        ///< ?types= items; empty: no parameter
    QString downloadId;       ///< Download endpoint
    enum class Style { Default, Envelope, Named } style = Style::Default;
    bool useToken = false;
    QString tokenScope;       ///< the scope minted for it when useToken

    static ClientSpec random(QRandomGenerator &rng);
    Filter filter() const;
    bool named() const { return style == Style::Named; }
    /// The request path with its query (token appended when given).
    QByteArray path(const QByteArray &token) const;
    QString describe() const;
};

/// One publish the test made, and what became of it.
struct PublishRecord
{
    qint64 seq = 0;
    quint8 channel = 0;
    QString type;
    QJsonObject data;
    int node = -1;          ///< -1: an outside PUBLISH straight to Redis
    qint64 issueTick = 0;   ///< the test's logical clock when the request left
    qint64 ackTick = -1;    ///< when the 202 arrived; -1: not acknowledged
    int status = 0;         ///< HTTP status (0: no answer); for outside: subscribers reached
    QString ackId;          ///< the id in the 202 body
    qint64 atMs = 0;        ///< wall clock when it was issued
};

} // namespace Model
