#pragma once

#include "fileserver.h"
#include "modeltypes.h"

#include <QHash>
#include <QThread>

#include <functional>
#include <type_traits>

namespace DlModel {

/**
 * The internet, as far as the downloads know it: a FileServer on its own thread (so the test
 * may block on a REST call, a psql or a process start without the origin stalling every
 * transfer meanwhile), and the catalogue of its files with every version each had and when.
 *
 * Every version is kept whole: the end checks compare a finished file with each of them.
 * Validators change with each version (a strong ETag, a Last-Modified date, or both, or a weak
 * ETag with a date) and a date always moves on by 10 s, so an If-Range can always tell two
 * versions apart: a splice is then never the origin's fault.
 */
class Origin
{
public:
    enum class Validators { StrongEtag, Date, Both, WeakEtagAndDate };

    explicit Origin(quint32 seed);
    ~Origin();

    quint16 port() const { return m_port; }
    /// http://<host>:<port><path>
    QString url(const QString &host, const QByteArray &path) const;

    /// A file served from now on, version 1.
    void addFile(const QByteArray &path, qint64 size, Validators validators, bool ranges, qint64 rate);
    /// Replaces `path` by a new version (its size kept or not); returns the new version's number.
    int newVersion(const QByteArray &path, bool sameSize);
    const QList<Version> &versions(const QByteArray &path) const;
    /// The version current now.
    const Version &current(const QByteArray &path) const { return versions(path).last(); }
    bool serves(const QByteArray &path) const { return m_catalogue.contains(path); }
    QList<QByteArray> paths() const;
    QList<QByteArray> activePaths();

    void setDisposition(const QByteArray &path, const QByteArray &value);
    void setDrops(const QByteArray &path, int percent);
    void burst(const QByteArray &path, int count, int status, int retryAfter);
    void setRate(const QByteArray &path, qint64 bytesPerSecond);
    /// Back to the file's own rate.
    void clearRate(const QByteArray &path) { setRate(path, m_catalogue.value(path).rate); }
    /// Every fault off: no drops, no error bursts, each file's own rate and disposition.
    void clearFaults();
    QList<Hermes::Test::FileServer::Served> served();

private:
    struct Entry
    {
        QList<Version> versions;
        Validators validators = Validators::StrongEtag;
        qint64 rate = 0;
        int fileNumber = 0;
    };

    /// Runs `f` on the origin's thread with its FileServer and waits for it.
    template<typename F>
    auto call(F f) -> std::invoke_result_t<F, Hermes::Test::FileServer &>
    {
        using R = std::invoke_result_t<F, Hermes::Test::FileServer &>;
        if constexpr (std::is_void_v<R>) {
            invoke([&] { f(*m_server); });
        } else {
            R result{};
            invoke([&] { result = f(*m_server); });
            return result;
        }
    }
    void invoke(const std::function<void()> &f);
    QByteArray contentFor(qint64 size);
    void applyVersion(const QByteArray &path, const Version &v, const Entry &e, bool first);

    QThread m_thread;
    QObject *m_context = nullptr;              ///< lives on m_thread
    Hermes::Test::FileServer *m_server = nullptr; ///< lives on m_thread
    quint16 m_port = 0;
    quint32 m_contentSeed;
    QHash<QByteArray, Entry> m_catalogue;
};

} // namespace DlModel
