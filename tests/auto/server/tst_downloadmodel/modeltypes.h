#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <climits>

// The vocabulary of the download model test: what the test asked for, what the origin served
// and what it planted, so the end checks can tell the server's faults from the test's own.
namespace DlModel {

/// The faults the test injects, by kind (the summary counts them; HERMES_MODEL_NEMESES picks).
enum class Nemesis {
    NodeKill,       ///< SIGKILL a node, restart it on the same port and data dir
    NodeStop,       ///< SIGSTOP a node for longer than the lease, then SIGCONT
    PostgresRestart,
    Resolver,       ///< names under .hermes.test fail with EAI_AGAIN for a few seconds
    Version,        ///< the origin replaces a file (new bytes, new validators)
    Drops,          ///< the origin cuts a share of the transfers of a file at random offsets
    ErrorBurst,     ///< the next N requests of a file get 5xx, 408 or 429 (Retry-After)
    Trickle,        ///< a file is served at a few KB/s for a while
    DiskFull,       ///< a ballast file fills the download dir (a tmpfs) for a while
    ClockStep,      ///< the wall clock of the node under libfaketime jumps
    PlantSymlink,   ///< symlinks at part-file and target names, into the "outside" dir
    PlantFifo,      ///< FIFOs at part-file and target names
    Disposition,    ///< the origin names hostile files in Content-Disposition
    Count
};
QString nemesisName(Nemesis n);

/// One version of one origin file, and when it was the current one (test wall clock, ms).
struct Version
{
    int number = 0;
    QByteArray bytes;
    QByteArray sha256;  ///< lower-case hex
    qint64 fromMs = 0;
    qint64 toMs = LLONG_MAX; ///< replaced at; LLONG_MAX: still current
};

/// An entry the test planted in the download dir (a hostile name).
struct Plant
{
    QString name;        ///< in the download dir
    QString kind;        ///< "symlink" or "fifo"
    QString target;      ///< the symlink's target (absolute, in the outside dir)
    QString forId;       ///< the download it was planted for
    bool atTargetName = false; ///< at the finished file's name (else at a part-file name)
};

/// A status change or failure seen on the event stream.
struct SeenChange
{
    QString status;
    QString eventId;
    qint64 atMs = 0;
};

/// One download the test added (or tried to add), and everything it did to it.
struct DownloadRecord
{
    int index = 0;
    QString id;              ///< empty until the 201 (or the final listing, for an uncertain add)
    QByteArray path;         ///< on the origin
    QString url;             ///< with its own host name (Qt caches lookups per name)
    QString requestedName;   ///< "filename" of the request; empty: none
    enum class Sha { None, Correct, Wrong } sha = Sha::None;
    QString sha256;
    qint64 createdMs = 0;    ///< before the POST was sent
    bool addUncertain = false;   ///< the POST got no answer: the row may or may not exist
    QString lastAction;      ///< the last control action that got 200 (pause, resume, cancel, retry)
    bool actionUncertain = false;///< a control request got no answer: it may have applied
    qint64 finishedSeenMs = -1;  ///< when the stream first said completed (test clock)
    QJsonObject row;         ///< the final row
};

/// The permanent reasons the test can cause, and what a message says about its cause.
namespace Reasons {
bool isChecksum(const QString &message);
/// The digest a checksum message says the bytes had ("got <hex>"), or empty.
QByteArray checksumGot(const QString &message);
bool isNotFound(const QString &message);
bool isTooLarge(const QString &message);
bool isDiskFull(const QString &message);
/// A short word for a transient cause, for reports: dns, http, disk, network, other.
QString transientKind(const QString &message);
} // namespace Reasons

/// The numbers of the versions that `bytes` is exactly.
QList<int> matchingVersions(const QByteArray &bytes, const QList<Version> &versions);
/// Why `bytes` is none of `versions`: its size and first differing offset against each, and
/// the runs of it that match some version at the same offset (a splice shows as several runs).
QString describeMismatch(const QByteArray &bytes, const QList<Version> &versions);

QByteArray sha256Hex(const QByteArray &bytes);
qint64 wallMs();

} // namespace DlModel
