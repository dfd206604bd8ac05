#pragma once

#include "testutil.h"

#include <QObject>

#include <functional>

namespace Hermes::Test {

/**
 * One HTTP/1.1 request to 127.0.0.1:port on its own connection, answered through the event
 * loop: `done` runs exactly once, with the reply, or with status 0 when the connection failed,
 * closed early or `timeoutMs` passed. Nothing is retried (a POST is never sent twice).
 * `context` going away cancels the callback.
 */
void httpRequestAsync(QObject *context, quint16 port, const QByteArray &method,
                      const QByteArray &path, const QList<QPair<QByteArray, QByteArray>> &headers,
                      const QByteArray &body, int timeoutMs,
                      std::function<void(const HttpReply &)> done);

} // namespace Hermes::Test
