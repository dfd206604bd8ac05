#include "protocol/timestamp.h"

namespace Hermes {

// Every time Hermes stores and sends is UTC, "2026-12-07T18:00:00.123Z": written and read here
// by hand for that form (QDateTime::toString formats each field through QString::asprintf,
// fromString parses the fraction as a double; at 100,000 downloads three times a row on a list
// page were a tenth of the server's CPU, issue 27), through Qt for any other.
static constexpr qint64 MsPerDay = 86400000;

QString isoTimestamp(const QDateTime &time)
{
    if (!time.isValid() || time.timeSpec() != Qt::UTC) // an invalid time is "", as Qt writes it
        return time.toString(Qt::ISODateWithMs);
    const qint64 ms = time.toMSecsSinceEpoch();
    const qint64 days = ms >= 0 ? ms / MsPerDay : (ms - MsPerDay + 1) / MsPerDay;
    qint64 inDay = ms - days * MsPerDay;
    // The civil date of a day count (H. Hinnant's days_from_civil, inverted).
    const qint64 z = days + 719468;
    const qint64 era = (z >= 0 ? z : z - 146096) / 146097;
    const qint64 doe = z - era * 146097;
    const qint64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const qint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const qint64 mp = (5 * doy + 2) / 153;
    const int day = int(doy - (153 * mp + 2) / 5 + 1);
    const int month = int(mp < 10 ? mp + 3 : mp - 9);
    const qint64 year = yoe + era * 400 + (month <= 2);
    if (year < 1 || year > 9999) // Qt has no year 0 (1 BC is -1)
        return time.toString(Qt::ISODateWithMs);
    char16_t text[24];
    auto put = [&text](int at, qint64 value, int digits) {
        for (int i = digits - 1; i >= 0; --i, value /= 10)
            text[at + i] = char16_t(u'0' + value % 10);
    };
    put(0, year, 4);
    text[4] = u'-';
    put(5, month, 2);
    text[7] = u'-';
    put(8, day, 2);
    text[10] = u'T';
    put(11, inDay / 3600000, 2);
    inDay %= 3600000;
    text[13] = u':';
    put(14, inDay / 60000, 2);
    inDay %= 60000;
    text[16] = u':';
    put(17, inDay / 1000, 2);
    text[19] = u'.';
    put(20, inDay % 1000, 3);
    text[23] = u'Z';
    return QString(reinterpret_cast<const QChar *>(text), 24);
}

QDateTime parseIsoTimestamp(QStringView text)
{
    auto digits = [text](int at, int count) {
        int value = 0;
        for (int i = at; i < at + count; ++i) {
            const char16_t c = text[i].unicode();
            if (c < u'0' || c > u'9')
                return -1;
            value = value * 10 + (c - u'0');
        }
        return value;
    };
    if (text.size() == 24 && text[4] == u'-' && text[7] == u'-' && text[10] == u'T' && text[13] == u':'
        && text[16] == u':' && text[19] == u'.' && text[23] == u'Z') {
        const int year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
        const int hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2), ms = digits(20, 3);
        static constexpr int monthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        if (year >= 1 && month >= 1 && month <= 12 && day >= 1
            && day <= monthDays[month - 1] - (month == 2 && !leap) && hour >= 0 && hour < 24
            && minute >= 0 && minute < 60 && second >= 0 && second < 60 && ms >= 0) {
            // days_from_civil
            const qint64 y = year - (month <= 2);
            const qint64 era = (y >= 0 ? y : y - 399) / 400;
            const qint64 yoe = y - era * 400;
            const qint64 doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
            const qint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
            const qint64 days = era * 146097 + doe - 719468;
            return QDateTime::fromMSecsSinceEpoch(
                days * MsPerDay + ((hour * 60 + minute) * 60 + second) * 1000 + ms, Qt::UTC);
        }
    }
    return QDateTime::fromString(text.toString(), Qt::ISODateWithMs);
}

} // namespace Hermes
