#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QUrl>
#include <QUrlQuery>

namespace Hermes {

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

/**
 * One parsed HTTP/1.x request: what HttpRequestParser produced from the bytes, after the front
 * door checked them. Its accessors have the names QHttpServerRequest's have, so route code reads
 * the same whichever server parsed it.
 */
class HttpRequest final
{
public:
    enum class Method {
        Unknown = 0x0000,
        Get = 0x0001,
        Put = 0x0002,
        Delete = 0x0004,
        Post = 0x0008,
        Head = 0x0010,
        Options = 0x0020,
        Patch = 0x0040,
        Connect = 0x0080,
        Trace = 0x0100,
    };
    /// The method of a request-line token (case-sensitive, as RFC 9110 says); Unknown otherwise.
    static Method methodFromName(QByteArrayView name);
    static QByteArray methodName(Method method);

    Method method() const { return m_method; }
    /// The request-target as sent (origin-form: path and query, still percent-encoded).
    const QByteArray &target() const { return m_target; }
    /// The target as a URL (path and query; no scheme or host).
    QUrl url() const { return m_url; }
    QUrlQuery query() const { return QUrlQuery(m_url); }
    /// The path's segments, each percent-decoded on its own (so "%2F" never splits one).
    const QStringList &pathSegments() const { return m_segments; }
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    int minorVersion() const { return m_minorVersion; }
    /// Every header in order, names as sent.
    const HeaderList &headers() const { return m_headers; }
    /// The first header called `name` (case-insensitive), or empty.
    QByteArray value(QByteArrayView name) const;
    const QByteArray &body() const { return m_body; }
    QHostAddress remoteAddress() const { return m_remote; }
    /// The client may send another request on this connection after the answer (HTTP/1.1
    /// without `Connection: close`).
    bool keepAlive() const { return m_keepAlive; }

private:
    friend class HttpRequestParser;

    Method m_method = Method::Unknown;
    QByteArray m_target;
    QUrl m_url;
    QStringList m_segments;
    int m_minorVersion = 1;
    HeaderList m_headers;
    QByteArray m_body;
    QHostAddress m_remote;
    bool m_keepAlive = true;
};

} // namespace Hermes
