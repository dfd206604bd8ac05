#include "modeltypes.h"

#include <QUrl>

namespace Model {

QString channelName(quint8 bit)
{
    switch (bit) {
    case Downloads: return QStringLiteral("download:updates");
    case Queue: return QStringLiteral("queue:updates");
    case System: return QStringLiteral("system:notifications");
    default: return QString();
    }
}

quint8 channelFromName(QStringView name)
{
    for (quint8 bit : {Downloads, Queue, System}) {
        if (name == channelName(bit))
            return bit;
    }
    return 0;
}

QStringList typesOf(quint8 bit)
{
    switch (bit) {
    case Downloads: return {QStringLiteral("download_progress"), QStringLiteral("download_completed")};
    case Queue: return {QStringLiteral("queue_update"), QStringLiteral("queue_reordered")};
    case System: return {QStringLiteral("system_notification"), QStringLiteral("system_alert")};
    default: return {};
    }
}

QStringList downloadIds()
{
    return {QStringLiteral("dl-1"), QStringLiteral("dl-2"), QStringLiteral("dl-3")};
}

static const char *shortName(quint8 bit)
{
    return bit == Downloads ? "downloads" : bit == Queue ? "queue" : "system";
}

ClientSpec ClientSpec::random(QRandomGenerator &rng)
{
    ClientSpec s;
    const int kind = rng.bounded(10);
    s.endpoint = kind < 6 ? Endpoint::Stream : kind < 8 ? Endpoint::Queue : Endpoint::Download;
    quint8 channels = AllChannels;
    if (s.endpoint == Endpoint::Stream && rng.bounded(2)) {
        channels = quint8(1 + rng.bounded(7));
        for (quint8 bit : {Downloads, Queue, System}) {
            if (channels & bit) // short names mostly; full names are accepted too
                s.channelNames << (rng.bounded(4) ? QString::fromLatin1(shortName(bit)) : channelName(bit));
        }
    } else if (s.endpoint == Endpoint::Queue) {
        channels = Queue;
    } else if (s.endpoint == Endpoint::Download) {
        channels = Downloads | Queue;
        s.downloadId = downloadIds().at(rng.bounded(int(downloadIds().size())));
    }
    if (rng.bounded(3) == 0) {
        QStringList candidates;
        for (quint8 bit : {Downloads, Queue, System}) {
            if (channels & bit)
                candidates << typesOf(bit);
        }
        const int n = 1 + rng.bounded(2);
        for (int i = 0; i < n; ++i)
            s.types << candidates.at(rng.bounded(int(candidates.size())));
        s.types.removeDuplicates();
    }
    const int style = rng.bounded(5);
    s.style = style == 0 ? Style::Default : style < 3 ? Style::Envelope : Style::Named;
    s.useToken = rng.bounded(2);
    if (s.useToken) {
        // The narrowest scope that covers the stream, or the general one.
        s.tokenScope = QStringLiteral("stream");
        if (rng.bounded(2)) {
            if (s.endpoint == Endpoint::Download)
                s.tokenScope = QStringLiteral("download:") + s.downloadId;
            else if (channels == Queue)
                s.tokenScope = QStringLiteral("queue");
            else if (channels == System && s.endpoint == Endpoint::Stream)
                s.tokenScope = QStringLiteral("system");
        }
    }
    return s;
}

Filter ClientSpec::filter() const
{
    Filter f;
    switch (endpoint) {
    case Endpoint::Stream:
        if (!channelNames.isEmpty()) {
            f.channels = 0;
            for (const QString &n : channelNames) {
                for (quint8 bit : {Downloads, Queue, System}) {
                    if (n == QLatin1StringView(shortName(bit)) || n == channelName(bit))
                        f.channels |= bit;
                }
            }
        }
        break;
    case Endpoint::Queue:
        f.channels = Queue;
        break;
    case Endpoint::Download:
        f.channels = Downloads | Queue;
        f.downloadId = downloadId;
        break;
    }
    for (const QString &t : types)
        f.types.insert(t);
    return f;
}

QByteArray ClientSpec::path(const QByteArray &token) const
{
    QByteArray p = "/api/v1/events/";
    switch (endpoint) {
    case Endpoint::Stream: p += "stream"; break;
    case Endpoint::Queue: p += "queue"; break;
    case Endpoint::Download: p += "downloads/" + QUrl::toPercentEncoding(downloadId); break;
    }
    QList<QByteArray> query;
    if (!channelNames.isEmpty())
        query << "channels=" + QUrl::toPercentEncoding(channelNames.join(u','));
    if (!types.isEmpty())
        query << "types=" + QUrl::toPercentEncoding(types.join(u','));
    if (style == Style::Envelope)
        query << "style=envelope";
    else if (style == Style::Named)
        query << "style=named";
    if (!token.isEmpty())
        query << "token=" + QUrl::toPercentEncoding(QString::fromLatin1(token));
    if (!query.isEmpty())
        p += '?' + query.join('&');
    return p;
}

QString ClientSpec::describe() const
{
    // Decoded: readable, and no "%2C" for a later QString::arg() to take for a placeholder.
    QString p = QUrl::fromPercentEncoding(path({}));
    if (useToken)
        p += (p.contains(u'?') ? u'&' : u'?') + QStringLiteral("token=<%1>").arg(tokenScope);
    return p;
}

} // namespace Model
