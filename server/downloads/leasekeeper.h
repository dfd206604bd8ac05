#pragma once

#include "downloads/download.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <functional>

namespace Hermes {

class AbstractDownloadStore;

/**
 * Which downloads this node may run: it claims them from the store under a lease, renews the
 * leases of the downloads it runs (and only those), and says when one must stop here — before
 * a lease that another node could take expires, or when the download was changed, deleted or
 * taken over elsewhere.
 *
 * At most `maxConcurrent` transfer here (a download being finished, see finishing(), counts
 * only past `maxConcurrent` of them), and at most `clusterMaxConcurrent` hold a lease over every
 * node. A claim holds for `leaseMs` by the database's clock; this side counts it on its own
 * monotonic clock from when the claim or renewal was sent, minus a safety margin (min(lease/4, 2 s)),
 * so a node that cannot reach the database stops before another node may start the same
 * download. Renewals go out every `renewMs`, which also finds work whose node stopped
 * renewing; the store's change notifications make control from other nodes take effect at
 * once (a missed one is caught by the next renewal).
 *
 * Answers of the store that were asked before this node last wrote a download say nothing
 * about it any more (written()): they are ignored for it. Lives on the main thread.
 */
class LeaseKeeper final : public QObject
{
    Q_OBJECT
public:
    /// From DownloadEngine::Options.
    struct Policy
    {
        int leaseMs = 0;              ///< how long a claim holds without renewal
        int renewMs = 0;              ///< renewal (and polling for orphaned work) period
        int maxConcurrent = 0;        ///< downloads at once on this node
        int clusterMaxConcurrent = 0; ///< over every node; 0: only the per-node limit
    };
    /// Monotonic milliseconds: where lease validity is decided. Tests hand in their own.
    using Clock = std::function<qint64()>;

    LeaseKeeper(const Policy &policy, AbstractDownloadStore *store, QString nodeId,
                QObject *parent = nullptr);

    /// Readable in the database and the logs: host, process and start (`host:pid:start`).
    static QString makeNodeId();
    /// How long before its expiry a lease counts as lost here.
    static qint64 safetyMargin(int leaseMs) { return qMin<qint64>(leaseMs / 4, 2000); }

    void setClock(Clock clock) { m_clock = std::move(clock); }
    /// Asked before each claim: false claims nothing now (e.g. the disk is too full to start
    /// a transfer). The renewals ask again.
    void setClaimGate(std::function<bool()> gate) { m_gate = std::move(gate); }
    /// What the node still works on besides its leases (e.g. changes being published after
    /// the lease was given up here): never claimed again meanwhile.
    void setBusy(std::function<QStringList()> busy) { m_busy = std::move(busy); }
    const QString &nodeId() const { return m_nodeId; }

    /// Voids the leases of a previous run when this node is the only one, then renews, watches
    /// the leases and claims work from now on.
    void start();
    /// Gives every lease of this node back, waiting a moment (shutdown).
    void releaseAll();

    /// Claims work when a slot is free (again once the current claim answered, if one runs).
    void claimSoon();
    /// Renews the leases of the downloads held here (the renewal timer calls it).
    void renew();
    /// Stops what could not be renewed in time (the lease timer calls it).
    void enforce();

    bool holds(const QString &id) const { return m_leases.contains(id); }
    int count() const { return int(m_leases.size()); }
    /// `id`'s transfer is over: the download is verified and moved into place now (its file's
    /// fdatasync, its completion saved), still under its lease — renewed, its writes fenced —
    /// but no longer one of the `maxConcurrent` transfers: the next download is claimed now,
    /// not after that sync. At most `maxConcurrent` finishing ones go uncounted, so a disk
    /// slower than the network holds the claims back (at most twice `maxConcurrent` leases).
    void finishing(const QString &id);
    /// The leases that count toward `maxConcurrent` (see finishing()).
    int counted() const;
    /// This node just wrote download `id`: what the store answers to earlier questions about
    /// it is older than that write.
    void written(const QString &id);
    /// No longer runs `id`; `handBack` gives its lease up in the store at once.
    void release(const QString &id, bool handBack);
    /// Downloads taken over from a node whose lease expired, since start.
    quint64 takeovers() const { return m_takeovers; }

signals:
    /// Run it here: the lease is this node's (its `owner` still names the previous node).
    void claimed(const Hermes::Download &row);
    /// Stop running it here: `handBack` gives its lease back, `deletePart` removes its part
    /// file (cancelled or deleted), `why` is for the log.
    void lost(const QString &id, bool handBack, bool deletePart, const QString &why);

private:
    struct Lease
    {
        qint64 validUntil = 0; ///< m_clock ms: the lease surely holds until then (0: not yet known)
        quint64 writtenSeq = 0; ///< the last write of this node, in m_seq
        bool finishing = false; ///< its transfer is over (finishing())
    };
    void check(const QString &id);
    void onStoreChanged(const QString &id);
    qint64 validFrom(qint64 sentAt) const;

    Policy m_policy;
    AbstractDownloadStore *m_store;
    QString m_nodeId;
    QElapsedTimer m_elapsed;
    Clock m_clock;
    std::function<bool()> m_gate;
    std::function<QStringList()> m_busy;
    QHash<QString, Lease> m_leases;
    int m_finishing = 0;          ///< leases marked finishing()
    quint64 m_seq = 0;            ///< orders this node's questions to the store and its writes
    bool m_claiming = false;
    bool m_claimAgain = false;
    bool m_renewing = false;
    quint64 m_takeovers = 0;
    QTimer m_renewTimer;
    QTimer m_leaseTimer;
    QTimer m_retryTimer;
};

} // namespace Hermes
