#pragma once

#include "testutil.h"

#include <QJsonObject>

namespace Hermes::Test {

class ServerProcess;

/**
 * The download REST API of a ServerProcess, as the download suites call it: with the test's
 * API key, JSON in and out. One copy for tst_downloads, tst_downloadinputs and tst_bulkactions.
 */
namespace DownloadApi {

/// `method path` with `Authorization: Bearer <the test key>` and a JSON body.
HttpReply call(const ServerProcess &server, const QByteArray &method, const QByteArray &path,
               const QByteArray &body = {});
/// The object a JSON body holds (empty when it holds none).
QJsonObject json(const QByteArray &body);
/// POST /api/v1/downloads: the download created (a warning, and what came back, when not 201).
QJsonObject add(const ServerProcess &server, const QJsonObject &request);
/// GET /api/v1/downloads/<id>.
QJsonObject get(const ServerProcess &server, const QString &id);
/// Polls the download until its status is `status`, at most `timeoutMs`.
bool waitStatus(const ServerProcess &server, const QString &id, const QString &status, int timeoutMs = 30000);

} // namespace DownloadApi
} // namespace Hermes::Test
