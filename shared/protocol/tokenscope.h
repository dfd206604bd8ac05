#pragma once

#include <QString>
#include <QStringView>
#include <QtGlobal>

#include <optional>

namespace Hermes {

/**
 * What a stream token lets its holder open: its `scope`, spelled as the Python Hermes spells
 * it (../shared/notes/hermes-python-contract.md) — `stream` (every stream), `queue`, `system`,
 * `download:<id>`. The one place a scope is spelled: the server mints and checks tokens with
 * it, and reads the scope of the Python Hermes' tokens with it.
 *
 * (The Python Hermes also has `stats`, which opens no event stream; it is not a scope here.)
 */
struct TokenScope
{
    enum class Kind : quint8 { Stream, Queue, System, Download };
    Kind kind = Kind::Stream;
    QString downloadId; ///< for Kind::Download: 1-128 of letters, digits, _ . : -

    /// The scope spelled `text`, or nothing.
    static std::optional<TokenScope> parse(QStringView text);
    QString toString() const;
    /// Every form a scope may take, for messages: "stream, queue, system, download:<id>".
    static QString forms();

    friend bool operator==(const TokenScope &a, const TokenScope &b)
    {
        return a.kind == b.kind && a.downloadId == b.downloadId;
    }
};

} // namespace Hermes
