#pragma once

#include "result.h"

#include <QByteArray>
#include <QJsonObject>

#include <functional>

namespace Hermes {

/**
 * Stream tokens minted by someone else: the Python Hermes API keeps its tokens in Redis under
 * `sse:token:<token>` (see ../shared/notes/hermes-python-contract.md), and a browser of its web
 * app presents them to Hermes-C++. Only a deployment on Redis has such a directory; the
 * embedded broker has none (a token that is not Hermes' own is then simply invalid).
 */
class ExternalTokenLookup
{
public:
    virtual ~ExternalTokenLookup() = default;

    /// The token's JSON record; NotFound when there is none (unknown, expired), Unavailable
    /// when the directory cannot be asked (Redis is not connected, or went away meanwhile).
    using Callback = std::function<void(Result<QJsonObject> record)>;
    virtual void lookupToken(const QByteArray &token, Callback done) = 0;
};

} // namespace Hermes
