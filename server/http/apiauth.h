#pragma once

#include <QByteArray>
#include <QStringView>

namespace Hermes {

class ApiKeyStore;
class HttpExchange;
class Metrics;

/// Checks `Authorization: Bearer <key>` against the configured keys; answers 401 itself (JSON
/// error, `WWW-Authenticate: Bearer`) and returns false when it fails. Shared by every route.
bool requireApiKey(HttpExchange &ex, const ApiKeyStore &keys, Metrics *metrics);
/// The credential of `Authorization: Bearer <credential>`, or empty.
QByteArray bearerCredential(const HttpExchange &ex);
/// Who a stream counts against for quotas (StreamParams::owner): `kind` and a digest of the
/// credential — never the credential itself, which must not sit in memory longer than needed.
QByteArray credentialOwner(QByteArrayView kind, QByteArrayView credential);
/// The 401 answer; `invalidToken` marks a credential that was presented but is not valid.
void replyUnauthorized(HttpExchange &ex, QStringView message, bool invalidToken, Metrics *metrics);

} // namespace Hermes
