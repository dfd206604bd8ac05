// A scripted hermes-server for tst_monitorsession: the download list paged as the real one
// pages it (its order, cursors, pages that end early), one download, and a scripted stream
// per connection.
#pragma once

#include "monitorsession.h"
#include "scriptedserver.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>

#include <algorithm>
#include <functional>

using namespace Hermes;
using namespace Hermes::Test;

namespace {

inline QJsonObject item(const QString &id, const QString &status, int second = 0)
{
    return {{"id", id}, {"url", "http://files/" + id}, {"filename", id + ".bin"}, {"status", status},
            {"priority", 0}, {"attempts", 0},
            {"created_at", QStringLiteral("2026-01-01T00:00:%1.000Z").arg(second, 2, 10, QChar(u'0'))},
            {"updated_at", QStringLiteral("2026-01-01T00:00:%1.000Z").arg(second, 2, 10, QChar(u'0'))},
            {"progress", QJsonObject{{"percentage", status == u"completed" ? 100 : 10}, {"speed", 100.0},
                                     {"downloaded_bytes", 10}, {"total_bytes", 100}, {"eta", 9}}}};
}

/// One SSE frame of the envelope style, with an id when given.
inline QByteArray frame(const QString &type, const QJsonObject &data, const QString &timestamp, const QByteArray &id = {})
{
    const QByteArray json = QJsonDocument(QJsonObject{{"type", type}, {"data", data}, {"timestamp", timestamp}})
                                .toJson(QJsonDocument::Compact);
    return (id.isEmpty() ? QByteArray() : "id: " + id + "\n") + "data: " + json + "\n\n";
}

inline QByteArray connected() { return frame("connected", {{"connection_id", "c"}, {"heartbeat_interval", 30}}, "2026-01-01T00:00:00.000Z"); }

inline QByteArray progressFrame(const QString &id, const QString &status, const QString &timestamp, const QByteArray &eventId)
{
    return frame("download_progress",
                 {{"download_id", id}, {"status", status}, {"filename", id + ".bin"}, {"url", "http://files/" + id},
                  {"progress", QJsonObject{{"percentage", status == u"completed" ? 100 : 50}, {"speed", 10.0},
                                           {"downloaded_bytes", 50}, {"total_bytes", 100}, {"eta", 5}}}},
                 timestamp, eventId);
}

/// A scripted hermes-server: the download list (paged as the real one pages it), one
/// download, and a scripted stream per connection.
class FakeHermes
{
public:
    QList<QJsonObject> items;
    int failLists = 0;                            ///< answer 500 to this many list requests
    QList<int> detailDelaysMs;                    ///< per details request: its body waits this long
    int pageBytes = 0;                            ///< a page ends early past this (as the real one does)
    QList<ScriptedServer::Response> streams;      ///< per connection; the last one repeats
    std::function<void(int page)> beforePage;     ///< may change `items` between pages
    int streamRequests = 0;
    int listRequests = 0;
    int detailRequests = 0;
    QList<QByteArray> streamLastEventIds;
    ScriptedServer server{[this](int, const QByteArray &request) { return answer(request); }};

    QUrl base() const { return QUrl(server.url(QString())); }

private:
    static QString orderKey(const QJsonObject &o)
    {
        const QString status = o.value("status").toString();
        const bool finished = status == u"completed" || status == u"failed" || status == u"cancelled";
        return QString(finished ? QStringLiteral("1|") : QStringLiteral("0|")) + o.value("created_at").toString() + u'|' + o.value("id").toString();
    }
    static ScriptedServer::Response json(int status, const QJsonObject &body)
    {
        const QByteArray bytes = QJsonDocument(body).toJson(QJsonDocument::Compact);
        return {"HTTP/1.1 " + QByteArray::number(status) + " X\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: "
                    + QByteArray::number(bytes.size()),
                {bytes}, false, true};
    }

    ScriptedServer::Response answer(const QByteArray &request)
    {
        const QByteArray target = request.split(' ').value(1);
        const QUrl url(QString::fromLatin1("http://x" + target));
        if (url.path() == u"/api/v1/events/stream") {
            QByteArray lastId;
            for (const QByteArray &line : request.split('\n')) {
                if (line.toLower().startsWith("last-event-id:"))
                    lastId = line.mid(14).trimmed();
            }
            streamLastEventIds.append(lastId);
            return streams.value(qMin(streamRequests++, int(streams.size()) - 1));
        }
        if (url.path() == u"/api/v1/downloads") {
            const QUrlQuery q(url);
            const int limit = q.queryItemValue("limit").toInt();
            if (beforePage)
                beforePage(listRequests);
            ++listRequests;
            if (failLists > 0) {
                --failLists;
                return json(500, {{"error", QJsonObject{{"code", "boom"}, {"message", "scripted failure"}}}});
            }
            // The real server's order (finished last, then arrival, then id), and its paging:
            // after a cursor (the last row's place in that order), else from an offset.
            QList<QJsonObject> ordered = items;
            std::stable_sort(ordered.begin(), ordered.end(),
                             [](const QJsonObject &a, const QJsonObject &b) { return orderKey(a) < orderKey(b); });
            int from = q.queryItemValue("offset").toInt();
            if (q.hasQueryItem("cursor")) {
                const QString after = QString::fromUtf8(QByteArray::fromBase64(q.queryItemValue("cursor").toLatin1()));
                from = 0;
                while (from < ordered.size() && orderKey(ordered.at(from)) <= after)
                    ++from;
            }
            QJsonArray page;
            qsizetype bytes = 0;
            for (int i = from; i < qMin(int(ordered.size()), from + limit); ++i) {
                bytes += QJsonDocument(ordered.at(i)).toJson(QJsonDocument::Compact).size();
                if (pageBytes > 0 && !page.isEmpty() && bytes > pageBytes)
                    break;
                page.append(ordered.at(i));
            }
            const int next = from + int(page.size());
            const QJsonValue cursor = next < ordered.size() && !page.isEmpty()
                ? QJsonValue(QString::fromLatin1(orderKey(page.last().toObject()).toUtf8().toBase64())) : QJsonValue();
            return json(200, {{"items", page}, {"total", int(items.size())}, {"limit", limit}, {"next_cursor", cursor}});
        }
        if (url.path().startsWith(u"/api/v1/downloads/")) {
            const int delayMs = detailDelaysMs.value(detailRequests++);
            const QString id = url.path().section(u'/', -1);
            for (const QJsonObject &o : std::as_const(items)) {
                if (o.value("id").toString() != id)
                    continue;
                // Served now, as it is now; the answer may arrive after what happens next.
                ScriptedServer::Response r = json(200, o);
                for (int waited = 0; waited < delayMs; waited += 20)
                    r.bodyParts.prepend({}); // body parts go out 20 ms apart
                return r;
            }
            return json(404, {{"error", QJsonObject{{"code", "not_found"}, {"message", "no"}}}});
        }
        return json(404, {});
    }
};

inline void fast(MonitorSession &session)
{
    session.stream().backoff().setBaseMs(10);
    session.stream().backoff().setCapMs(40);
    session.model().setCoalescingInterval(5);
}

} // namespace
