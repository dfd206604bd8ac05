#pragma once

#include "http/httprequest.h"

#include <QByteArray>
#include <QString>

#include <initializer_list>

namespace Hermes {

/**
 * The one place an HTTP/1.1 response is serialized: the status line with its reason phrase,
 * the headers, and the framing of the body (Content-Type, Content-Length, none at all for the
 * statuses that have no body). HttpExchange answers the routes with it, HttpConnection its own
 * answers (a request it refused while reading, `100 Continue`, a request nobody answered).
 */
class HttpResponse final
{
public:
    HttpResponse() = delete;

    /// The reason phrase of a status code ("Not Found").
    static QByteArray reasonPhrase(int status);
    /// Statuses whose responses never have a body, nor headers describing one (RFC 9110 §6.4.1).
    static bool isBodyless(int status);

    /// The status line and every list of headers in order, and `Connection: close` when
    /// `close`, without the blank line that ends the head (streams write their own body).
    static QByteArray head(int status, std::initializer_list<const HeaderList *> headers, bool close);
    /// The head of a complete response whose body is `bodySize` bytes: the head, then (unless
    /// the status is bodyless) Content-Type when given and Content-Length, and the blank line.
    /// The body goes out after it as a separate, shared buffer (see ResponseOutput).
    static QByteArray completeHead(int status, std::initializer_list<const HeaderList *> headers,
                                   bool close, const QByteArray &contentType, qint64 bodySize);
    /// A complete response: the head, then (unless the status is bodyless) Content-Type when
    /// given and Content-Length, and the body unless `headRequest` (a HEAD answer says what GET
    /// would send, without the body).
    static QByteArray complete(int status, std::initializer_list<const HeaderList *> headers,
                               bool close, const QByteArray &contentType, const QByteArray &body,
                               bool headRequest = false);
    /// A complete JSON error response: `{"error":{"code","message"}}` with `status`.
    static QByteArray error(int status, QByteArrayView code, const QString &message,
                            const HeaderList &headers, bool close);
    /// The interim answer to `Expect: 100-continue`.
    static QByteArray continueResponse();
};

} // namespace Hermes
