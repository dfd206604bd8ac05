#include "downloads/leasekeeper.h"

#include "downloads/abstractdownloadstore.h"
#include "logging.h"
#include "threadaffinity.h"

#include <QHostInfo>
#include <QUuid>

#include <unistd.h>

namespace Hermes {

LeaseKeeper::LeaseKeeper(const Policy &policy, AbstractDownloadStore *store, QString nodeId,
                         QObject *parent)
    : QObject(parent), m_policy(policy), m_store(store), m_nodeId(std::move(nodeId))
{
    m_elapsed.start();
    m_clock = [this] { return m_elapsed.elapsed(); };
    m_renewTimer.setInterval(m_policy.renewMs);
    connect(&m_renewTimer, &QTimer::timeout, this, [this] {
        renew();
        claimSoon(); // also finds work whose node stopped renewing
    });
    m_leaseTimer.setInterval(qMax(50, m_policy.renewMs / 4));
    connect(&m_leaseTimer, &QTimer::timeout, this, &LeaseKeeper::enforce);
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &LeaseKeeper::claimSoon);
    connect(m_store, &AbstractDownloadStore::changed, this, &LeaseKeeper::onStoreChanged);
}

QString LeaseKeeper::makeNodeId()
{
    return QStringLiteral("%1:%2:%3").arg(QHostInfo::localHostName()).arg(::getpid())
        .arg(QUuid::createUuid().toString(QUuid::WithoutBraces).left(8));
}

qint64 LeaseKeeper::validFrom(qint64 sentAt) const
{
    // The lease is treated as lost this long before it expires in the database, so a transfer
    // has stopped here before another node may start it.
    return sentAt + m_policy.leaseMs - safetyMargin(m_policy.leaseMs);
}

void LeaseKeeper::start()
{
    HERMES_ASSERT_THREAD(this);
    if (!m_store->isShared()) {
        // One node (the data dir is locked): leases of a previous run are void, and what was
        // running resumes now rather than after a lease period.
        m_store->resetOwners(5000);
    }
    qCInfo(lcHub).noquote() << "downloads: node" << m_nodeId << "using" << m_store->description();
    m_renewTimer.start();
    m_leaseTimer.start();
    claimSoon();
}

void LeaseKeeper::releaseAll()
{
    HERMES_ASSERT_THREAD(this);
    if (!m_leases.isEmpty())
        m_store->releaseAll(m_nodeId, 2000);
    m_leases.clear();
    m_finishing = 0;
}

void LeaseKeeper::written(const QString &id)
{
    HERMES_ASSERT_THREAD(this);
    if (const auto it = m_leases.find(id); it != m_leases.end())
        it->writtenSeq = ++m_seq;
}

void LeaseKeeper::finishing(const QString &id)
{
    HERMES_ASSERT_THREAD(this);
    const auto it = m_leases.find(id);
    if (it == m_leases.end() || it->finishing)
        return;
    it->finishing = true;
    ++m_finishing;
    claimSoon();
}

int LeaseKeeper::counted() const
{
    return count() - qMin(m_finishing, m_policy.maxConcurrent);
}

void LeaseKeeper::release(const QString &id, bool handBack)
{
    HERMES_ASSERT_THREAD(this);
    const auto it = m_leases.constFind(id);
    if (it == m_leases.cend())
        return;
    m_finishing -= it->finishing ? 1 : 0;
    m_leases.erase(it);
    if (handBack)
        m_store->release(id, m_nodeId);
}

void LeaseKeeper::claimSoon()
{
    HERMES_ASSERT_THREAD(this);
    const int free = m_policy.maxConcurrent - counted();
    if (free <= 0 || (m_gate && !m_gate()))
        return;
    if (m_claiming) {
        m_claimAgain = true;
        return;
    }
    m_claiming = true;
    m_claimAgain = false;
    const qint64 sentAt = m_clock();
    ++m_seq;
    QStringList busy = m_leases.keys();
    if (m_busy)
        busy += m_busy();
    m_store->claim(this, m_nodeId, m_policy.leaseMs, free, m_policy.clusterMaxConcurrent, busy,
                   [this, sentAt](Result<AbstractDownloadStore::Claimed> c) {
        m_claiming = false;
        if (!c) {
            qCWarning(lcHub).noquote() << "downloads: cannot claim work:" << c.error().message;
            return;
        }
        for (const Download &row : std::as_const(c->rows)) {
            if (!row.owner.isEmpty() && row.owner != m_nodeId) {
                ++m_takeovers;
                qCInfo(lcHub).noquote() << "download" << row.id << ": taking over from" << row.owner
                                        << "(its lease expired)";
            }
            // A renewal sent before this claim answered does not know it: newer than that.
            if (const auto held = m_leases.constFind(row.id); held != m_leases.cend() && held->finishing)
                --m_finishing; // claimed anew: a transfer again
            m_leases.insert(row.id, Lease{0, ++m_seq});
            emit claimed(row);
            if (const auto it = m_leases.find(row.id); it != m_leases.end())
                it->validUntil = validFrom(sentAt);
        }
        if (c->nextRetryInMs >= 0)
            m_retryTimer.start(int(qBound(qint64(1), c->nextRetryInMs, qint64(60000))));
        if (m_claimAgain || (!c->rows.isEmpty() && counted() < m_policy.maxConcurrent))
            claimSoon();
    });
}

void LeaseKeeper::renew()
{
    HERMES_ASSERT_THREAD(this);
    if (m_renewing)
        return; // the last one has not answered: enforce() covers it
    m_renewing = true;
    const qint64 sentAt = m_clock();
    const quint64 seq = ++m_seq;
    m_store->renew(this, m_nodeId, m_policy.leaseMs, m_leases.keys(),
                   [this, sentAt, seq](Result<QHash<QString, DownloadStatus>> owned) {
        m_renewing = false;
        if (!owned) {
            if (!m_leases.isEmpty())
                qCWarning(lcHub).noquote() << "downloads: cannot renew leases:" << owned.error().message;
            return;
        }
        const QStringList ids = m_leases.keys();
        for (const QString &id : ids) {
            const auto lease = m_leases.constFind(id);
            if (lease == m_leases.cend() || lease->writtenSeq > seq)
                continue; // claimed or changed after this renewal was sent
            const auto it = owned->constFind(id);
            if (it == owned->cend()) {
                emit lost(id, false, false, QStringLiteral("its lease is gone (taken over or deleted)"));
                release(id, false);
                continue;
            }
            m_leases[id].validUntil = validFrom(sentAt);
            if (!DownloadRules::isActive(*it)) {
                emit lost(id, true, *it == DownloadStatus::Cancelled,
                          QStringLiteral("%1 elsewhere").arg(QString(wireName(*it))));
                release(id, true);
            }
        }
    });
}

void LeaseKeeper::enforce()
{
    HERMES_ASSERT_THREAD(this);
    // The database may be out of reach: stop before another node may take the download over.
    const qint64 now = m_clock();
    const QStringList ids = m_leases.keys();
    for (const QString &id : ids) {
        const auto lease = m_leases.constFind(id);
        if (lease != m_leases.cend() && lease->validUntil > 0 && now > lease->validUntil) {
            emit lost(id, false, false, QStringLiteral("its lease could not be renewed in time"));
            release(id, false);
        }
    }
}

void LeaseKeeper::onStoreChanged(const QString &id)
{
    HERMES_ASSERT_THREAD(this);
    if (id == u"*") {
        renew();
        claimSoon();
    } else if (holds(id)) {
        check(id);
    } else {
        claimSoon();
    }
}

void LeaseKeeper::check(const QString &id)
{
    const quint64 seq = ++m_seq;
    m_store->get(this, id, [this, id, seq](Result<std::optional<Download>> row) {
        const auto lease = m_leases.constFind(id);
        if (!row || lease == m_leases.cend() || lease->writtenSeq > seq)
            return;
        if (!*row) {
            emit lost(id, false, true, QStringLiteral("deleted elsewhere"));
            release(id, false);
        } else if ((*row)->owner != m_nodeId) {
            emit lost(id, false, false, QStringLiteral("taken over by %1").arg((*row)->owner));
            release(id, false);
        } else if (!(*row)->isActive()) {
            const DownloadStatus status = (*row)->status;
            emit lost(id, true, status == DownloadStatus::Cancelled,
                      QStringLiteral("%1 elsewhere").arg(QString(wireName(status))));
            release(id, true);
        }
    });
}

} // namespace Hermes
