#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QStringView>

namespace Hermes::Json {

/// `text` as a JSON string literal (quotes included), UTF-8, escaped per RFC 8259.
QByteArray quote(QStringView text);

/// How deeply a request body may nest arrays and objects (`{}` is 1). Qt's parser goes to
/// 1,024, but the Python subscribers of the events fail far earlier, and nothing Hermes carries
/// needs more than a few levels.
inline constexpr int MaxDepth = 64;

/// Whether `json` nests arrays and objects at most `maxDepth` deep. A scan of the bytes
/// (strings and their escapes skipped), made before parsing so that a deep body costs no parse;
/// it does not validate: a body that passes may still be invalid JSON.
bool depthWithin(QByteArrayView json, int maxDepth = MaxDepth);

/// The compact JSON error body every HTTP error carries:
/// `{"error":{"code":"…","message":"…"}}` (plus `"details"` when given).
QByteArray errorBody(QStringView code, QStringView message,
                     const QJsonObject &details = QJsonObject());

} // namespace Hermes::Json
