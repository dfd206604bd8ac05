#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QStringView>

namespace Hermes::Json {

/// `text` as a JSON string literal (quotes included), UTF-8, escaped per RFC 8259.
QByteArray quote(QStringView text);

/// The compact JSON error body every HTTP error carries:
/// `{"error":{"code":"…","message":"…"}}` (plus `"details"` when given).
QByteArray errorBody(QStringView code, QStringView message,
                     const QJsonObject &details = QJsonObject());

} // namespace Hermes::Json
