#include "downloads/filenames.h"

#include <QFileInfo>
#include <QRegularExpression>

namespace Hermes::FileNames {

/// The longest start of `s` that is at most `maxBytes` of UTF-8, in whole characters.
static QString utf8Prefix(const QString &s, qsizetype maxBytes)
{
    qsizetype bytes = 0;
    qsizetype i = 0;
    while (i < s.size()) {
        const char16_t c = s[i].unicode();
        const bool pair = s[i].isHighSurrogate() && i + 1 < s.size() && s[i + 1].isLowSurrogate();
        const qsizetype n = pair ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
        if (bytes + n > maxBytes)
            break;
        bytes += n;
        i += pair ? 2 : 1;
    }
    return s.left(i);
}

bool isInvisibleOrControl(char32_t c)
{
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        return true; // C0 (NUL, newlines), DEL, C1
    if (c >= 0xd800 && c <= 0xdfff)
        return true; // half a surrogate pair: no character at all
    if (c == 0x200c || c == 0x200d)
        return false; // ZWNJ, ZWJ: Persian and Indic words, emoji sequences need them
    switch (QChar::category(c)) {
    case QChar::Other_Format:        // bidi marks, embeddings, overrides and isolates (U+200E/F,
                                     // U+202A–E, U+2066–9, U+061C), zero-width space, word joiner,
                                     // BOM, soft hyphen, interlinear annotations, tags
    case QChar::Separator_Line:      // U+2028
    case QChar::Separator_Paragraph: // U+2029
    case QChar::Other_Control:
        return true;
    default:
        return c == 0xfffe || c == 0xffff; // noncharacters at the end of the BMP
    }
}

QString sanitize(const QString &proposed)
{
    // Only the last component of either kind of path: "../../etc/passwd" → "passwd".
    const QString name = proposed.section(u'/', -1).section(u'\\', -1);
    QString clean;
    clean.reserve(name.size());
    for (qsizetype i = 0; i < name.size(); ++i) {
        char32_t c = name[i].unicode();
        if (name[i].isHighSurrogate() && i + 1 < name.size() && name[i + 1].isLowSurrogate()) {
            c = QChar::surrogateToUcs4(name[i], name[i + 1]);
            ++i;
        }
        // Invisible and control characters go: a right-to-left override turns
        // "invoice\u202Efdp.exe" into what reads as "invoiceexe.pdf" in the monitor.
        if (isInvisibleOrControl(c))
            continue;
        if (c < 0x80 && QStringView(u"<>:\"|?*").contains(QChar(c)))
            clean += u'_'; // not allowed on Windows shares, confusing in shells
        else
            clean += QStringView(QChar::fromUcs4(c));
    }
    // No hidden files, no "..", no blank ends (any Unicode space: U+0085 too, fuzz_filenames).
    while (!clean.isEmpty() && (clean.front() == u'.' || clean.front().isSpace()))
        clean.remove(0, 1);
    // At most 200 bytes of UTF-8 in whole characters (never half a surrogate pair), the end
    // trimmed again after the cut, and the reserved-name check on what is left: sanitizing a
    // sanitized name must change nothing (fuzz_filenames found all three).
    const auto fit = [](QString &s) {
        s = utf8Prefix(s, 200);
        while (!s.isEmpty() && (s.back() == u'.' || s.back().isSpace()))
            s.chop(1);
    };
    fit(clean);
    static const QRegularExpression reserved(
        QRegularExpression::anchoredPattern(QStringLiteral("(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\\..*)?")),
        QRegularExpression::CaseInsensitiveOption | QRegularExpression::DotMatchesEverythingOption);
    if (reserved.match(clean).hasMatch()) {
        clean.prepend(u'_');
        fit(clean);
    }
    return clean;
}

QString fromContentDisposition(const QByteArray &header)
{
    // RFC 6266: filename*=UTF-8''percent-encoded wins over filename="…".
    static const QRegularExpression extended(QStringLiteral("filename\\*\\s*=\\s*([^']*)'[^']*'([^;]+)"),
                                             QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression plain(QStringLiteral("filename\\s*=\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|[^;]+)"),
                                          QRegularExpression::CaseInsensitiveOption);
    const QString text = QString::fromLatin1(header);
    if (const auto m = extended.match(text); m.hasMatch()) {
        const QByteArray decoded = QByteArray::fromPercentEncoding(m.captured(2).trimmed().toLatin1());
        return m.captured(1).compare(u"UTF-8", Qt::CaseInsensitive) == 0 ? QString::fromUtf8(decoded)
                                                                        : QString::fromLatin1(decoded);
    }
    if (const auto m = plain.match(text); m.hasMatch()) {
        QString v = m.captured(2).isNull() ? m.captured(1).trimmed() : m.captured(2);
        return v.replace(QStringLiteral("\\\""), QStringLiteral("\""));
    }
    return {};
}

QString fromUrl(const QUrl &url)
{
    return url.path(QUrl::FullyDecoded).section(u'/', -1);
}

QString numbered(const QString &name, int n)
{
    if (n == 0)
        return name;
    const QFileInfo info(name);
    const QString base = info.baseName().isEmpty() ? name : info.baseName();
    const QString suffix = info.baseName().isEmpty() || info.completeSuffix().isEmpty()
        ? QString() : u'.' + info.completeSuffix();
    return QStringLiteral("%1 (%2)%3").arg(base).arg(n).arg(suffix);
}

} // namespace Hermes::FileNames
