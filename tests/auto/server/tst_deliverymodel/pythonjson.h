#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace Model {

/// `{"type": …, "data": {…}, "timestamp": …}` byte for byte as Python's json.dumps writes it
/// (", " and ": " separators, non-ASCII as \u escapes): what the Python Hermes workers PUBLISH.
QByteArray pythonEnvelope(const QString &type, const QJsonObject &data, const QString &timestamp);

} // namespace Model
