// The download file-name sanitizer (server/downloads/filenames): names come from clients,
// Content-Disposition headers and URLs of remote servers. Properties: no crash; a sanitized
// name is one safe path component (no separators, no control characters, not "." or "..",
// no leading dot, at most 200 bytes of UTF-8, no bidi or invisible format character, no
// unpaired surrogate), and sanitizing it again changes nothing.

#include "downloads/filenames.h"
#include "fuzzinput.h"

#include <cstdio>
#include <cstdlib>

using namespace Hermes;

static void checkSafe(const QString &name)
{
    if (name.isEmpty())
        return;
    FUZZ_CHECK(!name.contains(u'/') && !name.contains(u'\\'));
    FUZZ_CHECK(name != u"." && name != u"..");
    FUZZ_CHECK(!name.startsWith(u'.'));
    FUZZ_CHECK(name.toUtf8().size() <= 200);
    for (QChar c : name)
        FUZZ_CHECK(c.unicode() >= 0x20 && !(c.unicode() >= 0x7f && c.unicode() <= 0x9f));
    for (qsizetype i = 0; i < name.size(); ++i) {
        char32_t c = name[i].unicode();
        if (name[i].isHighSurrogate() && i + 1 < name.size() && name[i + 1].isLowSurrogate())
            c = QChar::surrogateToUcs4(name[i], name[i + 1]), ++i;
        FUZZ_CHECK(!FileNames::isInvisibleOrControl(c)); // unpaired surrogates among them
    }
    FUZZ_CHECK(FileNames::sanitize(name) == name);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    checkSafe(FileNames::sanitize(QString::fromUtf8(bytes)));
    checkSafe(FileNames::sanitize(FileNames::fromContentDisposition(bytes)));
    checkSafe(FileNames::sanitize(FileNames::fromUrl(QUrl::fromEncoded(bytes))));
    return 0;
}
