#pragma once

#include <QByteArray>
#include <QJsonObject>

#include <functional>
#include <optional>

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

    /// The token's JSON record, or nothing (unknown, expired, or the store is not reachable).
    using Callback = std::function<void(std::optional<QJsonObject> record)>;
    virtual void lookupToken(const QByteArray &token, Callback done) = 0;
};

} // namespace Hermes
