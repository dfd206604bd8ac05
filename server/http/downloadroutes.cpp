#include "http/downloadroutes.h"

#include "downloads/diskspacewatch.h"
#include "downloads/downloadservice.h"
#include "downloads/fieldlimits.h"
#include "http/apiauth.h"
#include "http/httperror.h"
#include "http/httpserver.h"
#include "jsonwriter.h"
#include "protocol/payloads.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>

namespace Hermes {

using Method = HttpServer::Method;

DownloadRoutes::DownloadRoutes(DownloadService *service, const ApiKeyStore &keys, Metrics *metrics)
    : m_service(service), m_keys(keys), m_metrics(metrics)
{
}

void DownloadRoutes::registerOn(HttpServer *server)
{
    auto authed = [this](void (DownloadRoutes::*handler)(HttpExchange &)) {
        return [this, handler](HttpExchange &ex) {
            if (requireApiKey(ex, m_keys, m_metrics))
                (this->*handler)(ex);
        };
    };
    const QString base = QStringLiteral("/api/v1/downloads");
    server->route(Method::Post, base, authed(&DownloadRoutes::create));
    server->route(Method::Get, base, authed(&DownloadRoutes::list));
    server->route(Method::Get, base + QStringLiteral("/{}"), authed(&DownloadRoutes::get));
    server->route(Method::Get, QStringLiteral("/api/v1/queue"), authed(&DownloadRoutes::queue));
    server->route(Method::Post, base + QStringLiteral("/{}/priority"), authed(&DownloadRoutes::setPriority));
    server->route(Method::Post, base + QStringLiteral("/actions"), authed(&DownloadRoutes::actOnMany));
    // POST …/{id}/pause|resume|cancel|retry: one route per action of the protocol.
    for (const DownloadAction action : allDownloadActions()) {
        server->route(Method::Post, base + QStringLiteral("/{}/") + wireName(action),
                      [this, action](HttpExchange &ex) {
            if (requireApiKey(ex, m_keys, m_metrics))
                m_service->act(ex.params().value(0), action, rowReply(ex, 200));
        });
    }
    server->route(Method::Delete, base + QStringLiteral("/{}"), [this](HttpExchange &ex) {
        if (!requireApiKey(ex, m_keys, m_metrics))
            return;
        const QString flag = QUrlQuery(ex.request().url()).queryItemValue(QStringLiteral("delete_file"));
        if (!flag.isEmpty() && flag != u"true" && flag != u"false") {
            ex.replyError(400, u"invalid_parameter", u"delete_file must be true or false");
            return;
        }
        m_service->remove(ex.params().value(0), flag == u"true", [ex](Result<void> removed) mutable {
            if (!removed)
                replyWith(ex, removed.error());
            else
                ex.reply(204, {}, {});
        });
    });
}

void DownloadRoutes::replyWith(HttpExchange &ex, const Error &error)
{
    // The store out of reach is temporary: the client may try again (on any node).
    const bool later = error.kind == Error::Kind::Unavailable;
    ex.replyError(httpStatusOf(error.kind), QString::fromLatin1(error.code), error.message,
                  later ? HeaderList{{"Retry-After", "1"}} : HeaderList{});
}

std::function<void(Result<Download>)> DownloadRoutes::rowReply(HttpExchange &ex, int status)
{
    // The exchange answers later, when the store has (a copy may answer, see HttpExchange).
    return [this, ex, status](Result<Download> d) mutable {
        if (!d)
            return replyWith(ex, d.error());
        HeaderList h;
        if (status == 201)
            h.append({"Location", "/api/v1/downloads/" + d->id.toUtf8()});
        ex.reply(status, m_service->resourceOf(*d).toJsonBytes(), "application/json", h);
    };
}

// One download of a `POST /api/v1/downloads` body, its fields' JSON types checked (their
// values are the service's to judge), or the 400 a wrong type gets.
static Result<DownloadService::NewDownload> newDownloadOf(const QJsonObject &body)
{
    const QJsonValue url = body.value(QStringLiteral("url"));
    const QJsonValue filename = body.value(QStringLiteral("filename"));
    const QJsonValue priority = body.value(QStringLiteral("priority"));
    const QJsonValue sha256 = body.value(QStringLiteral("sha256"));
    if (!url.isString())
        return Error::invalid("invalid_url", QStringLiteral("url is required and must be a string"));
    if (!filename.isUndefined() && !filename.isNull() && !filename.isString())
        return Error::invalid("invalid_filename", QStringLiteral("filename must be a string"));
    const double p = priority.toDouble(0);
    if ((!priority.isUndefined() && !priority.isNull() && !priority.isDouble()) || p != std::floor(p)
        || p < -1000 || p > 1000)
        return Error::invalid("invalid_priority", QStringLiteral("priority must be a whole number from -1000 to 1000"));
    if (!sha256.isUndefined() && !sha256.isNull() && !sha256.isString())
        return Error::invalid("invalid_sha256", QStringLiteral("sha256 must be a string of %1 hexadecimal digits")
                                                    .arg(FieldLimits::Sha256HexDigits));
    return DownloadService::NewDownload{url.toString(), filename.isString() ? filename.toString() : QString(),
                                        int(p), sha256.toString()};
}

void DownloadRoutes::create(HttpExchange &ex)
{
    const auto body = ex.jsonBody();
    if (!body)
        return;
    // One download (the Python Hermes' body), or {"downloads": [...]}: a pasted list added in
    // one transaction, all or none, instead of a request and a durable commit per line.
    const QJsonValue list = body->value(DownloadListMember);
    if (list.isUndefined()) {
        Result<DownloadService::NewDownload> one = newDownloadOf(*body);
        if (!one)
            return replyWith(ex, one.error());
        return m_service->add(one->url, one->filename, one->priority, one->sha256, rowReply(ex, 201));
    }
    if (body->contains(QStringLiteral("url")))
        return ex.replyError(400, u"invalid_downloads", u"give either url or downloads, not both");
    const QJsonArray array = list.toArray();
    if (!list.isArray() || array.isEmpty() || array.size() > DownloadService::MaxAdd)
        return ex.replyError(400, u"invalid_downloads",
                             QStringLiteral("downloads must be an array of 1 to %1 objects").arg(DownloadService::MaxAdd));
    QList<DownloadService::NewDownload> items;
    items.reserve(array.size());
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QString where = QStringLiteral("downloads[%1]").arg(i);
        if (!array.at(i).isObject())
            return ex.replyError(400, u"invalid_downloads", where + QStringLiteral(" must be an object"));
        // The first bad item in the list's order names the refusal, a wrong type or a wrong value.
        Result<DownloadService::NewDownload> item = newDownloadOf(array.at(i).toObject());
        std::optional<Error> why = item ? DownloadService::refusal(*item) : item.error();
        if (why) {
            why->message = where + QStringLiteral(": ") + why->message;
            return replyWith(ex, *why);
        }
        items.append(std::move(*item));
    }
    m_service->addMany(items, [this, ex](Result<QList<Download>> added) mutable {
        if (!added)
            return replyWith(ex, added.error());
        QByteArray body = "{\"" + QByteArray(DownloadListMember.data(), DownloadListMember.size()) + "\":[";
        for (qsizetype i = 0; i < added->size(); ++i) {
            if (i > 0)
                body += ',';
            JsonWriter row(&body);
            m_service->resourceOf(added->at(i)).writeJson(row);
        }
        ex.reply(201, body + "]}", "application/json");
    });
}

static QString statusesExpected()
{
    QStringList statuses;
    for (const DownloadStatus s : allDownloadStatuses())
        statuses.append(wireName(s));
    return QStringLiteral("status must be one of ") + statuses.join(QStringLiteral(", "));
}

// A whole number from -1000 to 1000, as the API's priorities are.
static std::optional<int> priorityOf(const QJsonValue &priority)
{
    const double p = priority.toDouble(0.5);
    if (!priority.isDouble() || p != std::floor(p) || p < -1000 || p > 1000)
        return std::nullopt;
    return int(p);
}

// `limit` (1-1000, `fallback` when absent) and `cursor`, else answers 400 and gives nothing.
static bool pagingOf(HttpExchange &ex, const QUrlQuery &query, int fallback, DownloadService::ListRequest *r)
{
    bool ok = true;
    r->limit = query.hasQueryItem(QStringLiteral("limit"))
        ? query.queryItemValue(QStringLiteral("limit")).toInt(&ok) : fallback;
    if (!ok || r->limit < 1 || r->limit > 1000) {
        ex.replyError(400, u"invalid_paging", u"limit must be 1-1000 and offset 0 or more");
        return false;
    }
    if (query.hasQueryItem(QStringLiteral("cursor"))) {
        r->after = ListCursor::decode(query.queryItemValue(QStringLiteral("cursor")).toLatin1());
        if (!r->after) {
            ex.replyError(400, u"invalid_cursor", u"cursor must be a next_cursor this API answered");
            return false;
        }
    }
    return true;
}

void DownloadRoutes::list(HttpExchange &ex)
{
    const QUrlQuery query(ex.request().url());
    DownloadService::ListRequest request;
    if (query.hasQueryItem(QStringLiteral("status"))) {
        request.status = fromWire<DownloadStatus>(query.queryItemValue(QStringLiteral("status")));
        if (!request.status) {
            ex.replyError(400, u"invalid_status", statusesExpected());
            return;
        }
    }
    if (!pagingOf(ex, query, 100, &request))
        return;
    bool ok = true;
    request.offset = query.hasQueryItem(QStringLiteral("offset"))
        ? query.queryItemValue(QStringLiteral("offset")).toInt(&ok) : 0;
    if (!ok || request.offset < 0) {
        ex.replyError(400, u"invalid_paging", u"limit must be 1-1000 and offset 0 or more");
        return;
    }
    if (request.after && query.hasQueryItem(QStringLiteral("offset"))) {
        ex.replyError(400, u"invalid_paging", u"give cursor or offset, not both");
        return;
    }
    // A cursor's page is one index seek; counting every match (a table scan on PostgreSQL,
    // 45 ms and more at 100,000 downloads) would cost more than the page. Offset pages, whose
    // clients page to `total`, still count.
    request.withTotal = !request.after;
    m_service->list(request, [this, ex, request](Result<DownloadService::Page> page) mutable {
        if (!page)
            return replyWith(ex, page.error());
        ex.reply(200, listBody(*page, request), "application/json");
    });
}

void DownloadRoutes::appendRows(QByteArray *body, const QList<Download> &rows, bool more, QByteArray *nextCursor,
                                qsizetype *written) const
{
    // Bounded in bytes as well as rows: a page of long URLs stops growing at ListPageBytes (one
    // row at least; a row that goes past the bound is cut off again); the next page starts
    // after its last row. Each row is written straight into the body (DownloadResource::
    // writeJson, the bytes its QJsonObject would give): a QJsonObject per row and its
    // serialization were most of the server's CPU for a page at 100,000 downloads (issue 27).
    const qsizetype start = body->size();
    body->reserve(start + qMin(rows.size() * 640 + 2, ListPageBytes + 2) + 256);
    *body += '[';
    qsizetype count = 0;
    for (const Download &d : rows) {
        const qsizetype before = body->size();
        if (count > 0)
            *body += ',';
        JsonWriter row(body);
        m_service->resourceOf(d).writeJson(row);
        if (count > 0 && body->size() - start > ListPageBytes) {
            body->truncate(before);
            break;
        }
        ++count;
    }
    *body += ']';
    *nextCursor = count > 0 && (more || count < rows.size())
        ? '"' + ListCursor::after(rows.at(count - 1)).encode() + '"' : QByteArray("null");
    if (written)
        *written = count;
}

QByteArray DownloadRoutes::listBody(const DownloadService::Page &page, const DownloadService::ListRequest &request) const
{
    // One buffer for the whole answer, the rows written into it in place: joining the parts
    // with + copied the rows' 60 KB once a part.
    // Where files go and the room left there: what an operator watches beside the list.
    const QString dir = QDir(m_service->dir().path()).absolutePath();
    const qint64 free = DiskSpaceWatch::freeBytes(dir);
    QByteArray body = "{\"download_dir\":\"";
    JsonWriter::appendEscaped(body, dir);
    body += "\",\"download_dir_free_bytes\":";
    body += free >= 0 ? QByteArray::number(free) : QByteArray("null");
    body += ",\"items\":";
    QByteArray nextCursor;
    qsizetype count = 0;
    appendRows(&body, page.items, page.more, &nextCursor, &count);
    const bool more = nextCursor != "null";
    body += ",\"limit\":" + QByteArray::number(request.limit) + ",\"next_cursor\":" + nextCursor;
    // Offsets only for offset paging: a cursor's page has no known offset.
    if (request.after) {
        body += ",\"next_offset\":null,\"offset\":null";
    } else {
        const qsizetype next = request.offset + count;
        body += ",\"next_offset\":" + (more ? QByteArray::number(next) : QByteArray("null"))
            + ",\"offset\":" + QByteArray::number(request.offset);
    }
    body += ",\"total\":" + (request.withTotal ? QByteArray::number(page.total) : QByteArray("null")) + '}';
    return body;
}

void DownloadRoutes::get(HttpExchange &ex)
{
    m_service->get(ex.params().value(0), rowReply(ex, 200));
}

void DownloadRoutes::queue(HttpExchange &ex)
{
    // Paged as the list is, by cursor only: `limit` rows and ListPageBytes, so 100,000 waiting
    // downloads are never one body. next_cursor (null on the last page) continues. 1,000
    // unless asked: a client written before the paging (the Python web app refetches "the
    // queue") still gets every row of any queue that fits one page.
    DownloadService::ListRequest request;
    if (!pagingOf(ex, QUrlQuery(ex.request().url()), 1000, &request))
        return;
    request.withTotal = false;
    m_service->queue(request, [this, ex, request](Result<DownloadService::Queue> queue) mutable {
        if (!queue)
            return replyWith(ex, queue.error());
        QByteArray body = "{\"items\":";
        QByteArray nextCursor;
        appendRows(&body, queue->unfinished, queue->more, &nextCursor, nullptr);
        body += ",\"limit\":" + QByteArray::number(request.limit) + ",\"next_cursor\":" + nextCursor
            + ",\"summary\":" + QJsonDocument(queue->summary.toJson()).toJson(QJsonDocument::Compact) + '}';
        ex.reply(200, body, "application/json");
    });
}

void DownloadRoutes::setPriority(HttpExchange &ex)
{
    const auto body = ex.jsonBody();
    if (!body)
        return;
    const std::optional<int> p = priorityOf(body->value(QStringLiteral("priority")));
    if (!p) {
        ex.replyError(400, u"invalid_priority", u"priority must be a whole number from -1000 to 1000");
        return;
    }
    m_service->setPriority(ex.params().value(0), *p, rowReply(ex, 200));
}

void DownloadRoutes::actOnMany(HttpExchange &ex)
{
    const auto body = ex.jsonBody();
    if (!body)
        return;
    DownloadService::BulkAction what;
    const QString name = body->value(QStringLiteral("action")).toString();
    if (name == u"priority") {
        const std::optional<int> p = priorityOf(body->value(QStringLiteral("priority")));
        if (!p)
            return ex.replyError(400, u"invalid_priority", u"priority must be a whole number from -1000 to 1000");
        what.priority = *p;
    } else {
        what.action = fromWire<DownloadAction>(name);
        if (!what.action) {
            QStringList actions;
            for (const DownloadAction a : allDownloadActions())
                actions.append(wireName(a));
            return ex.replyError(400, u"invalid_action", QStringLiteral("action must be one of %1 or priority")
                                                              .arg(actions.join(QStringLiteral(", "))));
        }
    }
    const QJsonValue ids = body->value(QStringLiteral("ids"));
    const QJsonValue status = body->value(QStringLiteral("status"));
    if (ids.isUndefined() == status.isUndefined())
        return ex.replyError(400, u"invalid_selection", u"give either ids or status, not both");
    AbstractDownloadStore::Selection which;
    which.limit = DownloadService::MaxBulk;
    if (!ids.isUndefined()) {
        if (!ids.isArray())
            return ex.replyError(400, u"invalid_ids", u"ids must be an array of download ids");
        const QJsonArray list = ids.toArray();
        if (list.size() > DownloadService::MaxBulk)
            return ex.replyError(413, u"too_many_ids", QStringLiteral("at most %1 ids in one request")
                                                            .arg(DownloadService::MaxBulk));
        for (const QJsonValue &id : list) {
            if (!id.isString() || id.toString().isEmpty())
                return ex.replyError(400, u"invalid_ids", u"ids must be an array of download ids");
            which.ids.append(id.toString());
        }
    } else {
        // One status, or several (pause applies to pending and downloading).
        const QJsonArray list = status.isArray() ? status.toArray() : QJsonArray{status};
        for (const QJsonValue &s : list) {
            const std::optional<DownloadStatus> known = fromWire<DownloadStatus>(s.toString());
            if (!s.isString() || !known)
                return ex.replyError(400, u"invalid_status", statusesExpected());
            which.statuses.append(*known);
        }
    }
    m_service->actOnMany(which, what, [ex](Result<DownloadService::BulkResult> r) mutable {
        if (!r)
            return replyWith(ex, r.error());
        QJsonArray skipped;
        for (const DownloadService::Skipped &s : std::as_const(r->skipped)) {
            QJsonObject o{{QStringLiteral("id"), s.id}, {QStringLiteral("reason"), QString::fromLatin1(s.reason)}};
            if (s.status)
                o.insert(QStringLiteral("status"), QString(wireName(*s.status)));
            skipped.append(o);
        }
        ex.replyJson(200, {{QStringLiteral("changed"), QJsonArray::fromStringList(r->changed)},
                           {QStringLiteral("more"), r->more},
                           {QStringLiteral("skipped"), skipped}});
    });
}

} // namespace Hermes
