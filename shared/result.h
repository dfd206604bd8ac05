#pragma once

#include <QByteArray>
#include <QString>

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace Hermes {

/**
 * Why something failed: a kind a caller can act on, a machine-readable code for APIs, and a
 * message for people. The one error type of Hermes (see README "Architecture": error style).
 *
 * The kind says what the failure means to the caller, not where it happened; the HTTP routes
 * map it to a status (httpStatusOf()), nothing below them knows HTTP.
 */
struct Error
{
    enum class Kind : quint8 {
        Invalid,     ///< the input is wrong: asking again the same way cannot work
        NotFound,    ///< what it names does not exist
        Conflict,    ///< not in this state (e.g. a download that is not paused cannot resume)
        Unavailable, ///< a dependency is down or did not answer in time: try again later
        Failed,      ///< it went wrong here (a file that cannot be written, a bug)
    };

    Kind kind = Kind::Failed;
    QByteArray code;   ///< e.g. "invalid_url": stable, for API clients and tests
    QString message;   ///< for people; never holds a secret

    static Error invalid(QByteArray code, QString message) { return {Kind::Invalid, std::move(code), std::move(message)}; }
    static Error notFound(QByteArray code, QString message) { return {Kind::NotFound, std::move(code), std::move(message)}; }
    static Error conflict(QByteArray code, QString message) { return {Kind::Conflict, std::move(code), std::move(message)}; }
    static Error unavailable(QByteArray code, QString message) { return {Kind::Unavailable, std::move(code), std::move(message)}; }
    static Error failed(QByteArray code, QString message) { return {Kind::Failed, std::move(code), std::move(message)}; }
};

/**
 * A value or an Error: what every fallible function of Hermes returns, or hands to its
 * callback when it answers later. (C++23's std::expected, which GCC 12 has only in C++23 mode.)
 *
 *     Result<Download> r = service.get(id);
 *     if (!r) return reply(r.error());
 *     use(*r);
 *
 * Result<void> carries only the error. Construct a failure from an Error (implicit), a success
 * from the value (implicit) or, for void, `Result<void>()` / `Result<void>::success()`.
 */
template<typename T>
class [[nodiscard]] Result
{
public:
    Result(T value) : m_value(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_value(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return m_value.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() & { return std::get<0>(m_value); }
    const T &value() const & { return std::get<0>(m_value); }
    T &&value() && { return std::get<0>(std::move(m_value)); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T valueOr(T fallback) const { return ok() ? value() : std::move(fallback); }

    const Error &error() const { return std::get<1>(m_value); }

private:
    std::variant<T, Error> m_value;
};

template<>
class [[nodiscard]] Result<void>
{
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)) {}
    static Result success() { return {}; }

    bool ok() const { return !m_error; }
    explicit operator bool() const { return ok(); }
    const Error &error() const { return *m_error; }

private:
    std::optional<Error> m_error;
};

} // namespace Hermes
