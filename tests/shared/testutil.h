#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace Hermes::Test {

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
quint16 freePort();

/// One blocking HTTP/1.1 request to 127.0.0.1:port with a bounded wait, for tests only.
struct HttpReply
{
    int status = 0;                            ///< 0 when no answer arrived in time
    QList<QPair<QByteArray, QByteArray>> headers; ///< names lower-cased
    QByteArray body;
    QByteArray header(QByteArrayView name) const;
};
/// Parses a response head (status line and headers, without the blank line): the status, and
/// the headers with lower-cased names.
int parseResponseHead(QByteArrayView head, QList<QPair<QByteArray, QByteArray>> *headers);

HttpReply httpRequest(quint16 port, const QByteArray &method, const QByteArray &path,
                      const QList<QPair<QByteArray, QByteArray>> &headers = {},
                      const QByteArray &body = {}, int timeoutMs = 5000);

} // namespace Hermes::Test
