#pragma once

#include "downloads/download.h"
#include "downloads/downloaddir.h"
#include "downloads/trailinghash.h"
#include "downloads/transferrate.h"
#include "downloads/transferroute.h"
#include "downloads/writebackpacer.h"
#include "result.h"

#include <QObject>
#include <QPointer>

#include <functional>
#include <optional>

class QNetworkAccessManager;
class QNetworkReply;

namespace Hermes {

/// How a Transfer ended: exactly one of these, once.
struct TransferResult
{
    /// DiskFull: the part file could not grow (ENOSPC, EDQUOT); its bytes so far are kept.
    enum class Kind { Finished, Failed, Stopped, DiskFull };
    Kind kind = Kind::Finished;
    QString message;        ///< why it failed
    bool retryable = false; ///< a transient failure (RetryPolicy's table says which)
    qint64 retryAfterMs = -1; ///< the origin's Retry-After (429, 503), when it sent one
};

/**
 * One download's bytes on their way into its part file, KJob-like: started once, it reports
 * progress and then exactly one result — finished (every byte is in the part file), failed
 * (with the message, and whether another attempt may help) or stopped (stop() was called).
 *
 * It owns its QNetworkReply, its part file, the transfer rate and the pace of its progress
 * reports. **Its part file is its own**: `<id>.<lease generation>.part`, created new
 * (DownloadDir: O_EXCL, never through a link). To resume, it copies the saved bytes from the
 * part file of the generation that saved them — only when that file vouches for them (a
 * regular file at least that long whose last 64 KiB hash to the saved check, unchanged while
 * copied) — and never writes into another generation's file, so a writer paused past its lease
 * that wakes up writes only into its own, orphaned file. Writes are unbuffered (pwrite): no
 * buffer outlives a lease.
 *
 * **Bounded memory**: Qt's HTTP thread holds at most ReadBufferSize (1 MiB) of the reply; when
 * the disk or this thread falls behind, it stops reading the socket and TCP holds the origin
 * back, so a file larger than RAM flows through. Each readyRead drains the reply through one
 * buffer (1 MiB, shared by every transfer of the thread) and writes it with one pwrite per
 * buffer's worth (up to 1 MiB per write: what
 * arrived since the last turn of the event loop). No fdatasync per write: the file is synced
 * once, after its last byte, before it is moved into place (FinishedFile::verify).
 *
 * When the download has an expected SHA-256, the part file is hashed a step behind the writes
 * on a thread of its own (TrailingHash: read back from the page cache, so the hash never sets
 * this thread's pace), saved prefix of a resume included, and a restart from zero starts it
 * over; the Finished result waits for the hash to reach the last byte, so verifying reads
 * nothing again: sha256() is the digest of the whole part file. A resume asks for the rest with Range, validated by If-Range (the
 * strong ETag, else the Last-Modified date seen before): 206 with the asked range continues; a
 * 200 (or another range) restarts from zero, lowers the percentage and says why in the note;
 * 416 fails retryably with the part file emptied. It knows nothing of leases or the store:
 * DownloadEngine decides what a result means.
 *
 * Its way to the origin — every hop's request, the redirects, the URL's credentials, the
 * address checks — is its TransferRoute's.
 *
 * download() is the download as this node runs it: the transfer keeps its bytes, total,
 * validators, name, note and percent current; the owner keeps the rest (status, attempts,
 * priority). Lives on the thread of its network access manager (the main thread).
 */
class Transfer final : public QObject
{
    Q_OBJECT
public:
    struct Limits
    {
        int maxRedirects = 0;
        qint64 maxFileSize = 0;         ///< 0: any size
        double progressStepPercent = 0; ///< report progress when the percentage grew this much …
        int progressIntervalMs = 0;     ///< … or this long after the last report
        /// Set: addresses a download may not connect to (HERMES_DOWNLOAD_BLOCK_PRIVATE), checked
        /// on every hop, on the address connected to (TransferRoute).
        TransferRoute::Refusal refusal = {};
    };
    /// Wall-clock milliseconds (the rate and the progress pace); tests hand in their own.
    using Clock = std::function<qint64()>;

    /// Its bytes go to `dir`'s part file of `download`.
    Transfer(const Download &download, const DownloadDir &dir, const Limits &limits,
             QNetworkAccessManager *network, QObject *parent = nullptr);
    /// Aborts quietly (no result): the owner is going away.
    ~Transfer() override;

    /// Opens the part file and requests what it lacks. Reports started() once the part file
    /// is open; reports the result at once (before returning) when the part file cannot be
    /// written, or when it already holds every byte (only verifying was left).
    void start();
    /// Stops on purpose: aborts the request, deletes the part file when `deletePart` and it is
    /// still the file this transfer wrote, and reports Stopped (nothing once it has ended).
    void stop(bool deletePart);
    /// Its own part file's name (in the download dir).
    QString partName() const;
    /// Deletes its own part file if the name still holds the file it wrote (not a successor's).
    void removeOwnPart();
    /// Deletes the part file this transfer resumed from (or restarted instead of), once a save
    /// naming this generation's file applied: nothing resumes from the older one any more, and
    /// the disk need not hold the download twice.
    void removeSupersededPart();
    bool hasEnded() const { return m_ended; }
    /// After a Finished result: the SHA-256 (lower-case hex) of the part file's downloadedBytes,
    /// hashed while they arrived; empty when not kept (no checksum expected, a read of the part
    /// file failed, or every byte had arrived before this transfer started) — then the file
    /// must be read.
    QString sha256() const;

    Download &download() { return m_download; }
    const Download &download() const { return m_download; }
    /// Bytes per second over the last seconds.
    double speed();
    void setClock(Clock clock) { m_clock = std::move(clock); }
    /// The network access manager its requests go through from now on (before start()).
    void setNetwork(QNetworkAccessManager *network) { m_network = network; }

signals:
    /// The part file is open and the transfer runs from download().downloadedBytes.
    void started();
    /// The origin's response headers arrived (after any redirects): no longer connecting.
    void responded();
    /// Bytes were written to the part file (for the node's totals).
    void received(qint64 bytes);
    /// download() moved on by a progress step, or a progress interval passed, or it reached
    /// 100 %: what it says has arrived is in the part file (flushed), for a takeover.
    void progressed();
    /// The one result.
    void ended(const Hermes::TransferResult &result);

private:
    /// Requests the route's current hop (after its host is resolved and checked, when it is).
    void request();
    /// A redirect answer: on to the next hop, or failed. False: not a redirect.
    bool redirected(QNetworkReply *reply);
    void onMetaData();
    void onData();
    void onFinished();
    void fail(const QString &message, bool retryable);
    void end(const TransferResult &result);
    void abortReply();
    bool openPart();
    /// Copies the saved prefix from the generation that saved it; false: restart from zero
    /// (the reason in the note).
    bool resumeFromSaved();
    void restartFromZero(const QString &why);
    /// Every byte is in the part file: reports Finished once the hash (if any) reached the end.
    void finishWhenHashed();
    bool write(const char *bytes, qint64 size);
    /// Records that this generation's file now holds downloadedBytes (what a save vouches for).
    void vouch();

    Download m_download;
    DownloadDir m_dir;
    Limits m_limits;
    QNetworkAccessManager *m_network;
    Clock m_clock;
    TransferRoute m_route;        ///< hops, redirects, credentials, address checks
    QPointer<QNetworkReply> m_reply;
    int m_fd = -1;                ///< its own part file
    TransferRate m_rate;
    WritebackPacer m_writeback;   ///< starts the disk's write-back as the file grows
    /// Set while a range's write-back is being started on the write-back's thread.
    std::shared_ptr<std::atomic<bool>> m_writebackBusy = std::make_shared<std::atomic<bool>>(false);
    qint64 m_offset = 0;          ///< bytes already in the part file when the request started
    qint64 m_lastProgressMs = 0;
    double m_lastPercent = -1;
    bool m_sentIfRange = false;
    bool m_copyFull = false;      ///< the resume's copy found the disk full
    qint64 m_supersedes = -1;     ///< the generation whose part file the row named at start
    bool m_ended = false;
    /// The part file's hash, when a checksum is expected; cancelled when this transfer ends.
    std::shared_ptr<TrailingHash> m_hash;
    QString m_digest;             ///< sha256(): what m_hash answered for the whole file
};

} // namespace Hermes
