#include "pythonjson.h"

#include <QJsonArray>

namespace Model {

static void appendString(QByteArray &out, const QString &s)
{
    out += '"';
    for (const QChar c : s) {
        const char16_t u = c.unicode();
        switch (u) {
        case u'"': out += "\\\""; break;
        case u'\\': out += "\\\\"; break;
        case u'\n': out += "\\n"; break;
        case u'\r': out += "\\r"; break;
        case u'\t': out += "\\t"; break;
        case u'\b': out += "\\b"; break;
        case u'\f': out += "\\f"; break;
        default:
            if (u < 0x20 || u > 0x7e) // ensure_ascii: UTF-16 units, surrogates included
                out += "\\u" + QByteArray::number(u, 16).rightJustified(4, '0');
            else
                out += char(u);
        }
    }
    out += '"';
}

static void appendValue(QByteArray &out, const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: out += "null"; break;
    case QJsonValue::Bool: out += v.toBool() ? "true" : "false"; break;
    case QJsonValue::Double:
        if (v.toDouble() == double(v.toInteger()))
            out += QByteArray::number(v.toInteger());
        else
            out += QByteArray::number(v.toDouble(), 'g', 17);
        break;
    case QJsonValue::String: appendString(out, v.toString()); break;
    case QJsonValue::Array: {
        out += '[';
        const QJsonArray a = v.toArray();
        for (qsizetype i = 0; i < a.size(); ++i) {
            if (i)
                out += ", ";
            appendValue(out, a.at(i));
        }
        out += ']';
        break;
    }
    case QJsonValue::Object: {
        out += '{';
        const QJsonObject o = v.toObject();
        bool first = true;
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (!first)
                out += ", ";
            first = false;
            appendString(out, it.key());
            out += ": ";
            appendValue(out, it.value());
        }
        out += '}';
        break;
    }
    case QJsonValue::Undefined: out += "null"; break;
    }
}

QByteArray pythonEnvelope(const QString &type, const QJsonObject &data, const QString &timestamp)
{
    QByteArray out = "{\"type\": ";
    appendString(out, type);
    out += ", \"data\": ";
    appendValue(out, data);
    out += ", \"timestamp\": ";
    appendString(out, timestamp);
    out += '}';
    return out;
}

} // namespace Model
