#pragma once

#include <QByteArray>
#include <QStringView>

namespace Hermes {

/**
 * Writes compact JSON straight into a QByteArray, with the bytes QJsonDocument::Compact would
 * give for the same values: strings escaped as Qt escapes them (RFC 8259: `"`, `\`, the control
 * characters as \b \f \n \r \t or \u00xx; everything else as UTF-8, a lone surrogate as \uxxxx),
 * a whole double as an integer, a non-finite one as null. What it saves over a QJsonObject per
 * value is the tree: no CBOR container, no sorted inserts, no second walk to serialize (list
 * pages at 100,000 downloads spent most of the server's CPU there, issue 27).
 *
 * It does not sort: an object's members come out in the order they are written, so a writer of
 * an object that also has a QJsonObject form writes its keys in sorted order (as QJsonObject
 * keeps them) to give the same bytes. Nesting is checked only by assertions.
 */
class JsonWriter
{
public:
    explicit JsonWriter(QByteArray *out) : m_out(out) {}

    void beginObject();
    void endObject();
    void beginArray();
    void endArray();
    /// The next member's name; its value follows with one of the calls below.
    JsonWriter &key(QStringView name);

    void string(QStringView text);
    void integer(qint64 value);
    void number(double value);
    void boolean(bool value);
    void null();
    /// null when `text` is empty (the protocol's "none").
    void stringOrNull(QStringView text);
    /// Already serialized JSON (a value), copied as it is.
    void raw(const QByteArray &json);

    /// `text` escaped as the inside of a JSON string (no quotes), appended to `out`.
    static void appendEscaped(QByteArray &out, QStringView text);

private:
    void beforeValue();
    void open(char bracket);
    void close(char bracket);

    QByteArray *m_out;
    quint64 m_hasMembers = 0; ///< a bit per open container: whether it has a value yet
    int m_depth = 0;
    bool m_afterKey = false;
};

} // namespace Hermes
