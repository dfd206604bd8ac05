// The download promise, checked at quiescence against what the test did: every download ends
// completed with exactly the bytes of one whole version of the origin's file, or failed or
// paused with a reason the retry table allows; never a spliced file; never two finished files
// for one download; nothing written outside the download dir; no download stuck; every
// status change published once.

#include "modelrun.h"

#include "eventrecorder.h"
#include "origin.h"

#include <QDir>

#include <algorithm>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>

#include <sys/stat.h>
#include <sys/statvfs.h>

namespace DlModel {

static QString str(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1StringView(key)).toString();
}

static QString compact(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

// What lstat says an entry is, in words.
static QString entryKind(const QString &path)
{
    struct stat st{};
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0)
        return QStringLiteral("missing");
    if (S_ISREG(st.st_mode))
        return QStringLiteral("file");
    if (S_ISLNK(st.st_mode))
        return QStringLiteral("symlink");
    if (S_ISFIFO(st.st_mode))
        return QStringLiteral("fifo");
    if (S_ISDIR(st.st_mode))
        return QStringLiteral("directory");
    return QStringLiteral("special file");
}

static QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// What the test planted for download `id`, for the messages about it.
QString ModelRun::plantsFor(const QString &id) const
{
    QStringList out;
    for (const Plant &p : m_plants) {
        if (p.forId == id)
            out << (p.target.isEmpty() ? p.kind + u' ' + p.name : p.kind + u' ' + p.name + QStringLiteral(" -> ") + p.target);
    }
    return out.isEmpty() ? QString() : QStringLiteral(" (the test planted for it: %1)").arg(out.join(QStringLiteral(", ")));
}

void ModelRun::checkAll(const QList<QJsonObject> &rows)
{
    QHash<QString, QJsonObject> byId, byUrl;
    for (const QJsonObject &row : rows) {
        byId.insert(str(row, "id"), row);
        byUrl.insert(str(row, "url"), row);
    }
    QSet<QString> accounted;
    for (DownloadRecord &r : m_downloads) {
        if (r.id.isEmpty() && byUrl.contains(r.url)) {
            if (!r.addUncertain) {
                fail(Check::Run, QStringLiteral("#%1 %2: the add was refused, yet a download exists: %3")
                         .arg(r.index).arg(r.url, compact(byUrl.value(r.url))));
            }
            r.id = str(byUrl.value(r.url), "id"); // an add whose answer was lost: it did happen
        }
        if (r.id.isEmpty())
            continue;
        if (!byId.contains(r.id)) {
            fail(Check::Status, QStringLiteral("#%1 %2: the download is gone (the test deletes none)").arg(r.index).arg(r.id));
            continue;
        }
        accounted.insert(r.id);
        r.row = byId.value(r.id);
        checkStatus(r);
        const QString status = str(r.row, "status");
        if (status == u"completed")
            checkCompleted(r);
        else if (status == u"failed")
            checkFailure(r, str(r.row, "error_message"), QStringLiteral("the row"));
        // A failure a later retry hid from the row must have been allowed too.
        QSet<QString> messages;
        for (const auto &f : m_recorder->failures(r.id)) {
            if (!messages.contains(f.second) && f.second != str(r.row, "error_message"))
                checkFailure(r, f.second, QStringLiteral("an event"));
            messages.insert(f.second);
        }
        checkEvents(r);
    }
    for (const QJsonObject &row : rows) {
        if (!accounted.contains(str(row, "id")))
            fail(Check::Run, QStringLiteral("a download the test never added: %1").arg(compact(row)));
    }
    checkDirectory();
    checkOutside();
    for (const QString &p : m_recorder->problems())
        fail(Check::Events, p);
}

// 1: a final status, and only one the test can explain.
void ModelRun::checkStatus(DownloadRecord &r)
{
    const QString status = str(r.row, "status");
    const QString error = str(r.row, "error_message");
    if (status == u"pending" || status == u"downloading" || status == u"processing") {
        ++m_stuck;
        fail(Check::Status, QStringLiteral("#%1 %2 is stuck: still %3 after the quiescence bound (%4 of %5 bytes, attempts %6, "
                            "error \"%7\", note \"%8\")")
                 .arg(r.index).arg(r.id, status).arg(r.row.value(QStringLiteral("downloaded_bytes")).toInteger())
                 .arg(r.row.value(QStringLiteral("total_bytes")).toInteger())
                 .arg(r.row.value(QStringLiteral("attempts")).toInt()).arg(error, str(r.row, "note")));
    } else if (status == u"paused" && r.lastAction != u"pause" && !r.actionUncertain && !Reasons::isDiskFull(error)) {
        fail(Check::Status, QStringLiteral("#%1 %2 is paused, yet the test did not pause it (last action \"%3\") and the reason "
                            "\"%4\" is not a full disk").arg(r.index).arg(r.id, r.lastAction, error));
    } else if (status == u"paused" && r.lastAction != u"pause" && !r.actionUncertain && freeMiB() > 16) {
        // Paused for a full disk, and the disk has room again since the ballast went.
        ++m_stuck;
        fail(Check::Status, QStringLiteral("#%1 %2 is still paused for a full disk (\"%3\") though %4 MiB have been free since "
                                           "the test removed its ballast").arg(r.index).arg(r.id, error).arg(freeMiB()));
    } else if (status == u"cancelled" && r.lastAction != u"cancel" && !r.actionUncertain) {
        fail(Check::Status, QStringLiteral("#%1 %2 is cancelled, yet the test did not cancel it (last action \"%3\")")
                 .arg(r.index).arg(r.id, r.lastAction));
    }
}

qint64 ModelRun::freeMiB() const
{
    struct statvfs s{};
    if (::statvfs(QFile::encodeName(m_downloadDir).constData(), &s) != 0)
        return -1;
    return qint64(s.f_bavail) * qint64(s.f_frsize) / (1024 * 1024);
}

// 2: a completed download is a regular file holding exactly one version the origin served
// while the download was under way.
void ModelRun::checkCompleted(DownloadRecord &r)
{
    const QString name = str(r.row, "filename");
    const QString path = QDir(m_downloadDir).filePath(name);
    const QString kind = entryKind(path);
    const QString who = QStringLiteral("#%1 %2 (%3)%4").arg(r.index).arg(r.id, r.url, plantsFor(r.id));
    if (name.endsWith(QLatin1StringView(".part")))
        fail(Check::Directory, QStringLiteral("%1 finished under a part-file name, \"%2\": another download may resume from it")
                 .arg(who, name));
    if (kind != u"file") {
        ++m_corrupt;
        fail(Check::Content, QStringLiteral("%1 is completed, but its file \"%2\" is %3").arg(who, name, kind == u"missing"
                 ? QStringLiteral("missing") : QStringLiteral("a ") + kind + QStringLiteral(", not a regular file")));
        return;
    }
    const QByteArray bytes = readAll(path);
    const QList<Version> versions = m_origin->versions(r.path);
    const QList<int> matching = matchingVersions(bytes, versions);
    if (matching.isEmpty()) {
        ++m_corrupt;
        fail(Check::Content, QStringLiteral("%1 completed with bytes that are no version of %2 (a splice or corruption): \"%3\", sha256 %4; %5")
                 .arg(who, QString::fromLatin1(r.path), name, QString::fromLatin1(sha256Hex(bytes)),
                      describeMismatch(bytes, versions)));
        return;
    }
    qint64 done = m_recorder->completedAt(r.id);
    if (done < 0)
        done = wallMs();
    bool inWindow = false;
    QStringList when;
    for (const Version &v : versions) {
        if (!matching.contains(v.number))
            continue;
        inWindow = inWindow || (v.fromMs <= done && v.toMs >= r.createdMs);
        when << QStringLiteral("v%1 from %2 to %3").arg(v.number).arg(v.fromMs).arg(v.toMs);
    }
    if (!inWindow)
        fail(Check::Content, QStringLiteral("%1 holds %2, which was not the origin's current version at any moment between the "
                            "download's creation (%3) and its completion (%4)")
                 .arg(who, when.join(QStringLiteral(", "))).arg(r.createdMs).arg(done));
    if (!r.sha256.isEmpty() && sha256Hex(bytes) != r.sha256.toLatin1())
        fail(Check::Content, QStringLiteral("%1 completed though its bytes (sha256 %2) are not the sha256 it was added with (%3)")
                 .arg(who, QString::fromLatin1(sha256Hex(bytes)), r.sha256));
}

// 3: a failure names a permanent cause the test really caused; anything transient must have
// been retried.
void ModelRun::checkFailure(const DownloadRecord &r, const QString &message, const QString &where)
{
    const QString who = QStringLiteral("#%1 %2 (%3)%4").arg(r.index).arg(r.id, r.url, plantsFor(r.id));
    if (Reasons::isChecksum(message)) {
        if (r.sha256.isEmpty()) {
            fail(Check::Failure, QStringLiteral("%1 failed (%2) on a checksum though it was added without one: \"%3\"").arg(who, where, message));
            return;
        }
        const QByteArray got = Reasons::checksumGot(message);
        bool known = got.isEmpty();
        for (const Version &v : m_origin->versions(r.path))
            known = known || v.sha256 == got;
        if (!known) {
            ++m_corrupt;
            fail(Check::Content, QStringLiteral("%1 failed (%2) on a checksum whose bytes are no version of %3: the check caught a "
                                "splice: \"%4\"").arg(who, where, QString::fromLatin1(r.path), message));
        }
        return;
    }
    if (Reasons::isNotFound(message) && !m_origin->serves(r.path))
        return;
    if (Reasons::isTooLarge(message) && r.path == m_hugePath)
        return;
    for (const Plant &p : std::as_const(m_plants)) {
        if (p.forId == r.id && !p.atTargetName && message.contains(p.name))
            return; // a planted part file, named by the message
    }
    fail(Check::Failure, QStringLiteral("%1 failed (%2) for a reason the test did not make permanent (%3): \"%4\"")
             .arg(who, where, Reasons::transientKind(message), message));
}

// 4: in the download dir, only the completed downloads' files, the part files of unfinished
// ones and what the test planted.
void ModelRun::checkDirectory()
{
    QHash<QString, QString> completed; // file name -> id
    QSet<QString> completedIds;
    for (const DownloadRecord &r : std::as_const(m_downloads)) {
        if (r.id.isEmpty() || str(r.row, "status") != u"completed")
            continue;
        const QString name = str(r.row, "filename");
        if (completed.contains(name))
            fail(Check::Directory, QStringLiteral("#%1 %2 and %3 both say their finished file is \"%4\"")
                     .arg(r.index).arg(r.id, completed.value(name), name));
        completed.insert(name, r.id);
        completedIds.insert(r.id);
    }
    QHash<QString, Plant> planted;
    for (const Plant &p : std::as_const(m_plants))
        planted.insert(p.name, p);
    const QDir dir(m_downloadDir);
    const QStringList entries = dir.entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
    for (const QString &name : entries) {
        const QString path = dir.filePath(name);
        const QString kind = entryKind(path);
        if (path == m_ballast) {
            fail(Check::Run, QStringLiteral("the test's ballast file is still there"));
            continue;
        }
        if (planted.contains(name) && kind == planted.value(name).kind)
            continue; // still the plant
        if (planted.contains(name) && planted.value(name).atTargetName) {
            // Never over an existing entry: the finished file should have taken another name.
            fail(Check::Directory, QStringLiteral("the %1 the test planted at the file name \"%2\" is now a %3: the server put "
                                "something over it").arg(planted.value(name).kind, name, kind));
            continue;
        }
        if (completed.contains(name))
            continue;
        if (name.endsWith(QLatin1StringView(".part"))) {
            if (completedIds.contains(name.section(u'.', 0, 0)))
                fail(Check::Directory, QStringLiteral("\"%1\" is left over, yet download %2 is completed").arg(name, name.section(u'.', 0, 0)));
            continue;
        }
        // Whose bytes are these? The report says, and lists the downloads of that file, to tell
        // a second copy from a stray.
        const QByteArray sha = kind == u"file" ? sha256Hex(readAll(path)) : QByteArray();
        QStringList whose, downloads;
        for (const QByteArray &p : m_origin->paths()) {
            bool match = false;
            for (const Version &v : m_origin->versions(p)) {
                if (v.sha256 == sha) {
                    whose << QStringLiteral("%1 v%2").arg(QString::fromLatin1(p)).arg(v.number);
                    match = true;
                }
            }
            for (const DownloadRecord &r : std::as_const(m_downloads)) {
                if (match && r.path == p && !r.id.isEmpty())
                    downloads << QStringLiteral("#%1 %2 %3 \"%4\"").arg(QString::number(r.index), r.id,
                                                                       str(r.row, "status"), str(r.row, "filename"));
            }
        }
        fail(Check::Directory,
             QStringLiteral("\"%1\" (%2, %3 bytes, %4) is no completed download's file: a second finished file "
                            "of a download, or a stray (the downloads of that file: %5)")
                 .arg(name, kind, QString::number(QFileInfo(path).size()),
                      whose.isEmpty() ? QStringLiteral("no version of any origin file") : QStringLiteral("bytes of ") + whose.join(u'/'),
                      downloads.join(QStringLiteral(", "))));
    }
    for (const Plant &p : std::as_const(m_plants)) {
        if (p.atTargetName && entryKind(dir.filePath(p.name)) == u"missing")
            fail(Check::Directory, QStringLiteral("the %1 the test planted at the file name \"%2\" (for %3) is gone: the server "
                                "removed it or moved a file over it and away").arg(p.kind, p.name, p.forId));
    }
}

// 5: nothing outside the download dir changed or appeared, not even where a symlink pointed.
void ModelRun::checkOutside()
{
    const QDir outside(m_outsideDir);
    for (const QString &name : outside.entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot)) {
        if (!m_sentinels.contains(name)) {
            fail(Check::Outside, QStringLiteral("\"%1\" appeared outside the download dir (%2)").arg(outside.filePath(name), entryKind(outside.filePath(name))));
            continue;
        }
        const QByteArray now = readAll(outside.filePath(name));
        const QByteArray was = m_sentinels.value(name);
        if (now != was) {
            qint64 at = 0;
            while (at < qMin(now.size(), was.size()) && now.at(at) == was.at(at))
                ++at;
            fail(Check::Outside, QStringLiteral("the sentinel %1 outside the download dir was written to: %2 bytes (was %3), first "
                                "change at offset %4").arg(outside.filePath(name)).arg(now.size()).arg(was.size()).arg(at));
        }
    }
    for (auto it = m_sentinels.cbegin(); it != m_sentinels.cend(); ++it) {
        if (!QFile::exists(outside.filePath(it.key())))
            fail(Check::Outside, QStringLiteral("the sentinel %1 outside the download dir is gone").arg(outside.filePath(it.key())));
    }
    for (const QString &ghost : std::as_const(m_ghosts)) {
        if (entryKind(ghost) != u"missing")
            fail(Check::Outside, QStringLiteral("%1, where a planted symlink pointed, now exists: written through the link").arg(ghost));
    }
    const QDir root(m_root.path());
    for (const QString &name : root.entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot)) {
        if (name != u"downloads" && name != u"outside")
            fail(Check::Outside, QStringLiteral("\"%1\" appeared next to the download dir").arg(root.filePath(name)));
    }
}

// 6: each status change published once, and the last one is the row's status.
void ModelRun::checkEvents(const DownloadRecord &r)
{
    const QList<SeenChange> seen = m_recorder->transitions(r.id);
    for (qsizetype i = 1; i < seen.size(); ++i) {
        if (seen.at(i).status != seen.at(i - 1).status)
            continue;
        // Published again by the claim that finished what a node killed or paused between
        // publishing and releasing left: allowed (and counted) only with such a fault between.
        // The times are when this process *read* the events: on a loaded box it reads seconds
        // after the publish (seen at load 11 on 2 cores: a fault 1-2 s before the first one
        // was read, after it was published). The fault must still fall between the two reads
        // give or take that lateness, and a repeat without any fault near it stays fatal.
        constexpr qint64 ReadLatenessMs = 5000;
        const bool interrupted = std::any_of(m_interruptions.cbegin(), m_interruptions.cend(), [&](qint64 t) {
            return t >= seen.at(i - 1).atMs - ReadLatenessMs && t <= seen.at(i).atMs;
        });
        if (interrupted && seen.at(i).status != u"pending") {
            ++m_republished;
            continue;
        }
        // A known open problem (issue 22's note): a retried download's `pending` is now and
        // then seen twice, its `downloading` in between missing or reordered. Counted and
        // printed in every run; fatal only with HERMES_MODEL_STRICT_EVENTS=1 (the soaks).
        if (seen.at(i).status == u"pending" && !qEnvironmentVariableIsSet("HERMES_MODEL_STRICT_EVENTS")) {
            ++m_pendingRepeats;
            continue;
        }
        fail(Check::Events, QStringLiteral("#%1 %2: status_changed to %3 published twice in a row (events %4 and %5)")
                     .arg(r.index).arg(r.id, seen.at(i).status, seen.at(i - 1).eventId, seen.at(i).eventId));
    }
    const QString last = seen.isEmpty() ? QStringLiteral("pending") : seen.last().status;
    if (last != str(r.row, "status")) {
        QStringList trail;
        for (const SeenChange &c : seen)
            trail << c.status;
        fail(Check::Events, QStringLiteral("#%1 %2: the stream's status changes end at %3, the row says %4 (changes: %5)")
                 .arg(r.index).arg(r.id, last, str(r.row, "status"), trail.join(QStringLiteral(" -> "))));
    }
}

} // namespace DlModel
