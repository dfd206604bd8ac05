#include "http/apiauth.h"

#include "http/apikeystore.h"
#include "http/httpexchange.h"
#include "logging.h"
#include "metrics.h"

#include <QCryptographicHash>

namespace Hermes {

QByteArray bearerCredential(const HttpExchange &ex)
{
    const QByteArray auth = ex.header("authorization");
    if (auth.size() > 7 && auth.first(7).compare("bearer ", Qt::CaseInsensitive) == 0)
        return auth.sliced(7).trimmed();
    return {};
}

QByteArray credentialOwner(QByteArrayView kind, QByteArrayView credential)
{
    return kind.toByteArray() + ':'
        + QCryptographicHash::hash(credential, QCryptographicHash::Sha256).toHex().left(32);
}

void replyUnauthorized(HttpExchange &ex, QStringView message, bool invalidToken, Metrics *metrics)
{
    metrics->connectionRejected(Metrics::Rejection::Unauthorized);
    ex.replyError(401, invalidToken ? u"invalid_token" : u"unauthorized", message,
                  {{"WWW-Authenticate", invalidToken
                        ? QByteArray("Bearer realm=\"hermes\", error=\"invalid_token\"")
                        : QByteArray("Bearer realm=\"hermes\"")}});
}

bool requireApiKey(HttpExchange &ex, const ApiKeyStore &keys, Metrics *metrics)
{
    if (ex.header("authorization").isEmpty()) {
        replyUnauthorized(ex, u"missing Authorization: Bearer <api key>", false, metrics);
        return false;
    }
    if (!keys.verify(bearerCredential(ex))) {
        qCInfo(lcAuth).noquote() << "rejected an API key from" << ex.request().remoteAddress().toString();
        replyUnauthorized(ex, u"invalid API key", true, metrics);
        return false;
    }
    return true;
}

} // namespace Hermes
