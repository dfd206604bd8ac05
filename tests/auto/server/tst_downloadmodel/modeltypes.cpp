#include "modeltypes.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QRegularExpression>

namespace DlModel {

QString nemesisName(Nemesis n)
{
    switch (n) {
    case Nemesis::NodeKill: return QStringLiteral("kill");
    case Nemesis::NodeStop: return QStringLiteral("stop");
    case Nemesis::PostgresRestart: return QStringLiteral("postgres");
    case Nemesis::Resolver: return QStringLiteral("resolver");
    case Nemesis::Version: return QStringLiteral("version");
    case Nemesis::Drops: return QStringLiteral("drops");
    case Nemesis::ErrorBurst: return QStringLiteral("errors");
    case Nemesis::Trickle: return QStringLiteral("trickle");
    case Nemesis::DiskFull: return QStringLiteral("disk");
    case Nemesis::ClockStep: return QStringLiteral("clock");
    case Nemesis::PlantSymlink: return QStringLiteral("symlink");
    case Nemesis::PlantFifo: return QStringLiteral("fifo");
    case Nemesis::Disposition: return QStringLiteral("disposition");
    case Nemesis::Count: break;
    }
    return QStringLiteral("?");
}

QByteArray sha256Hex(const QByteArray &bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex();
}

qint64 wallMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

namespace Reasons {

bool isChecksum(const QString &message)
{
    return message.contains(QLatin1StringView("SHA-256"), Qt::CaseInsensitive)
        || message.contains(QLatin1StringView("checksum"), Qt::CaseInsensitive);
}

QByteArray checksumGot(const QString &message)
{
    static const QRegularExpression got(QStringLiteral("got ([0-9a-fA-F]{64})"));
    const QRegularExpressionMatch m = got.match(message);
    return m.hasMatch() ? m.captured(1).toLower().toLatin1() : QByteArray();
}

bool isNotFound(const QString &message)
{
    return message.contains(QLatin1StringView("HTTP 404")) || message.contains(QLatin1StringView("404 Not Found"));
}

bool isTooLarge(const QString &message)
{
    static const QRegularExpression large(QStringLiteral("more than the allowed|larger than the allowed|too large"),
                                          QRegularExpression::CaseInsensitiveOption);
    return large.match(message).hasMatch();
}

bool isDiskFull(const QString &message)
{
    static const QRegularExpression disk(QStringLiteral("disk|space|ENOSPC"), QRegularExpression::CaseInsensitiveOption);
    return disk.match(message).hasMatch();
}

QString transientKind(const QString &message)
{
    // Qt says "Host <name> not found" for a failed lookup.
    static const QRegularExpression dns(QStringLiteral("Host \\S+ not found|resolv|name resolution|lookup"),
                                        QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression http(QStringLiteral("HTTP (5\\d\\d|429|408)"));
    if (dns.match(message).hasMatch())
        return QStringLiteral("dns");
    if (http.match(message).hasMatch())
        return QStringLiteral("http");
    if (isDiskFull(message))
        return QStringLiteral("disk");
    static const QRegularExpression network(QStringLiteral("closed|reset|refused|timed? ?out|ended after|short"),
                                            QRegularExpression::CaseInsensitiveOption);
    if (network.match(message).hasMatch())
        return QStringLiteral("network");
    return QStringLiteral("other");
}

} // namespace Reasons

QList<int> matchingVersions(const QByteArray &bytes, const QList<Version> &versions)
{
    const QByteArray sha = sha256Hex(bytes);
    QList<int> out;
    for (const Version &v : versions) {
        if (v.sha256 == sha)
            out.append(v.number);
    }
    return out;
}

// How many bytes of `a` from `from` equal `b`'s at the same offsets.
static qint64 runLength(const QByteArray &a, const QByteArray &b, qint64 from)
{
    const qint64 end = qMin(a.size(), b.size());
    qint64 i = from;
    while (i < end && a.at(i) == b.at(i))
        ++i;
    return i - from;
}

QString describeMismatch(const QByteArray &bytes, const QList<Version> &versions)
{
    QStringList against;
    for (const Version &v : versions) {
        const qint64 same = runLength(bytes, v.bytes, 0);
        against << QStringLiteral("v%1 (%2 bytes): %3").arg(v.number).arg(v.bytes.size())
                       .arg(same == qMin(bytes.size(), v.bytes.size())
                                ? QStringLiteral("the shorter is a prefix of the other")
                                : QStringLiteral("first difference at offset %1").arg(same));
    }
    // The file as runs of versions: at each offset the version that goes on longest there.
    // A few bytes may match any version by chance; a run shorter than 64 bytes counts as none.
    QStringList runs;
    qint64 at = 0;
    while (at < bytes.size() && runs.size() < 12) {
        qint64 best = 0;
        int which = 0;
        for (const Version &v : versions) {
            const qint64 n = runLength(bytes, v.bytes, at);
            if (n > best) {
                best = n;
                which = v.number;
            }
        }
        if (best >= 64) {
            runs << QStringLiteral("%1-%2 v%3").arg(at).arg(at + best - 1).arg(which);
            at += best;
            continue;
        }
        // Bytes that are no version's here: up to where some version matches again.
        qint64 end = at + 1;
        for (; end < bytes.size(); ++end) {
            bool resumes = false;
            for (const Version &v : versions)
                resumes = resumes || runLength(bytes, v.bytes, end) >= 64;
            if (resumes)
                break;
        }
        runs << QStringLiteral("%1-%2 none").arg(at).arg(end - 1);
        at = end;
    }
    if (at < bytes.size())
        runs << QStringLiteral("…");
    return QStringLiteral("%1 bytes; against %2; runs: %3")
        .arg(bytes.size()).arg(against.join(QStringLiteral(", ")), runs.join(QStringLiteral(", ")));
}

} // namespace DlModel
