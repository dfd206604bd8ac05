// Stream-token verification (http/streamtokens): tokens come from URLs, i.e. from anyone.
// Properties: no crash; only Valid fills a scope; a token minted with the secret verifies with
// its scope, and any change to it (the fuzzer's bytes spliced in) never verifies as another
// scope.

#include "fuzzinput.h"
#include "http/streamtokens.h"

#include <cstdio>
#include <cstdlib>

using namespace Hermes;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    static const StreamTokenService service(QByteArrayLiteral("fuzz-secret"));
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const QDateTime now = QDateTime::fromSecsSinceEpoch(1800000000, Qt::UTC);

    TokenScope scope;
    scope.downloadId = QStringLiteral("untouched");
    const auto result = service.verify(bytes, &scope, now);
    if (result != StreamTokenService::Verdict::Valid)
        FUZZ_CHECK(scope.downloadId == u"untouched");

    // A genuine token, with the input spliced into it at an input-chosen place.
    const TokenScope minted = TokenScope::parse(QString::fromUtf8(bytes.first(qMin<qsizetype>(bytes.size(), 40))))
                                  .value_or(TokenScope{TokenScope::Kind::Queue, {}});
    const QByteArray token = service.mint(minted, 300).token;
    TokenScope back;
    FUZZ_CHECK(service.verify(token, &back) == StreamTokenService::Verdict::Valid);
    FUZZ_CHECK(back.toString() == minted.toString());
    if (!bytes.isEmpty()) {
        const qsizetype at = qsizetype(data[0]) % token.size();
        QByteArray changed = token;
        changed.replace(at, qMin<qsizetype>(bytes.size(), token.size() - at), bytes.toByteArray());
        if (changed != token) {
            // One spelling per token: not even the same bytes spelled otherwise (padding,
            // unused low bits) pass.
            TokenScope forged;
            FUZZ_CHECK(service.verify(changed, &forged) != StreamTokenService::Verdict::Valid);
        }
    }
    return 0;
}
