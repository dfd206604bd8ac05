#pragma once

#include <QDateTime>
#include <QStringView>

namespace Hermes {

/// ISO-8601 with milliseconds, as every Hermes timestamp is written: the bytes
/// `time.toString(Qt::ISODateWithMs)` gives ("2026-12-07T18:00:00.123Z" for a UTC time).
QString isoTimestamp(const QDateTime &time);
/// An ISO-8601 timestamp as QDateTime::fromString(text, Qt::ISODateWithMs) reads it (invalid
/// when `text` is not one).
QDateTime parseIsoTimestamp(QStringView text);

} // namespace Hermes
