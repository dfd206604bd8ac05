#include "http/streamtokens.h"

#include "http/apikeystore.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QRegularExpression>

namespace Hermes {

static constexpr auto Base64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

bool StreamScope::parse(QStringView text, StreamScope *out)
{
    if (text == u"stream") {
        *out = {Kind::Stream, {}};
    } else if (text == u"queue") {
        *out = {Kind::Queue, {}};
    } else if (text == u"system") {
        *out = {Kind::System, {}};
    } else if (text.startsWith(u"download:")) {
        static const QRegularExpression idPattern(QStringLiteral("^[A-Za-z0-9_.:-]{1,128}$"));
        const QString id = text.sliced(9).toString();
        if (!idPattern.match(id).hasMatch())
            return false;
        *out = {Kind::Download, id};
    } else {
        return false;
    }
    return true;
}

QString StreamScope::toString() const
{
    switch (kind) {
    case Kind::Stream: return QStringLiteral("stream");
    case Kind::Queue: return QStringLiteral("queue");
    case Kind::System: return QStringLiteral("system");
    case Kind::Download: return QStringLiteral("download:") + downloadId;
    }
    return {};
}

StreamTokenService::StreamTokenService(QByteArray secret) : m_secret(std::move(secret))
{
    Q_ASSERT(!m_secret.isEmpty());
}

QByteArray StreamTokenService::sign(QByteArrayView payload) const
{
    return QMessageAuthenticationCode::hash(payload.toByteArray(), m_secret,
                                            QCryptographicHash::Sha256);
}

StreamTokenService::Minted StreamTokenService::mint(const StreamScope &scope,
                                                    int ttlSeconds, const QByteArray &owner) const
{
    const QDateTime expires = QDateTime::currentDateTimeUtc().addSecs(ttlSeconds);
    QJsonObject claims{{QStringLiteral("scope"), scope.toString()},
                       {QStringLiteral("exp"), expires.toSecsSinceEpoch()},
                       {QStringLiteral("n"), QString::fromLatin1(randomToken(9))}};
    if (!owner.isEmpty())
        claims.insert(QStringLiteral("o"), QString::fromLatin1(owner));
    const QByteArray payload =
        QJsonDocument(claims).toJson(QJsonDocument::Compact).toBase64(Base64Url);
    return {"sse_" + payload + '.' + sign(payload).toBase64(Base64Url), expires};
}

QByteArray StreamTokenService::ownerOfKey(QByteArrayView key) const
{
    return "key:" + QMessageAuthenticationCode::hash(QByteArray("stream-owner:") + key.toByteArray(), m_secret,
                                                     QCryptographicHash::Sha256).toHex().left(32);
}

StreamTokenService::Result StreamTokenService::verify(QByteArrayView token, StreamScope *scope,
                                                      const QDateTime &now, QByteArray *owner) const
{
    if (!token.startsWith("sse_") || token.size() > 1024)
        return Result::Malformed;
    const QByteArrayView body = token.sliced(4);
    const qsizetype dot = body.indexOf('.');
    if (dot <= 0)
        return Result::Malformed;
    const QByteArrayView payload = body.first(dot);
    const auto signature = QByteArray::fromBase64Encoding(body.sliced(dot + 1).toByteArray(),
                                                          Base64Url | QByteArray::AbortOnBase64DecodingErrors);
    if (!signature || !constantTimeEquals(*signature, sign(payload)))
        return Result::BadSignature;
    const auto json = QByteArray::fromBase64Encoding(payload.toByteArray(),
                                                     Base64Url | QByteArray::AbortOnBase64DecodingErrors);
    if (!json)
        return Result::Malformed;
    const QJsonObject claims = QJsonDocument::fromJson(*json).object();
    StreamScope parsed;
    if (!StreamScope::parse(claims.value(QStringLiteral("scope")).toString(), &parsed))
        return Result::Malformed;
    const qint64 exp = claims.value(QStringLiteral("exp")).toInteger(-1);
    if (exp < 0)
        return Result::Malformed;
    if (now.toSecsSinceEpoch() >= exp)
        return Result::Expired;
    *scope = parsed;
    if (owner)
        *owner = claims.value(QStringLiteral("o")).toString().toLatin1();
    return Result::Valid;
}

bool StreamTokenService::loadSecret(const QString &configured, const QString &dataDir,
                                    QByteArray *secret, QString *error)
{
    if (!configured.isEmpty()) {
        *secret = configured.toUtf8();
        return true;
    }
    const QString path = QDir(dataDir).filePath(QStringLiteral("token-secret"));
    if (!QFile::exists(path) && !writePrivateFile(path, randomToken(32) + '\n', error))
        return false;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return false;
    }
    *secret = file.readAll().trimmed();
    if (secret->isEmpty()) {
        *error = QStringLiteral("%1 is empty; delete it to have a new secret generated").arg(path);
        return false;
    }
    return true;
}

} // namespace Hermes
