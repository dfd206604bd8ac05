#pragma once

#include "stream/encodedevent.h"
#include "stream/streamconnection.h"

#include <QByteArray>
#include <QHash>
#include <QString>

#include <vector>

namespace Hermes {

/**
 * The share groups of one StreamWorker: streams with the same filter, style and framing form a
 * group, with one buffer per group and round, and the groups are indexed by download id so a
 * round visits only the groups its events concern.
 *
 * A stream that is caught up and whose socket took everything is "live": it sits in its
 * group's live list, and a round's bytes go to those lists (see StreamWorker). A group is a
 * small integer, so the fan-out indexes an array per stream instead of hashing a key; when
 * the last stream of a group leaves, the group is reused, so distinct filters coming and going
 * never grow the table. Not thread-safe: it belongs to its worker's thread.
 */
class ShareGroupIndex final
{
public:
    /// Streams with the same filter, style and framing.
    struct Group
    {
        QString key; ///< empty: free
        StreamFilter filter;
        EventStyle style = EventStyle::Envelope;
        bool chunked = true;
        int users = 0;
        std::vector<StreamConnection *> live;
        quint64 round = 0;  ///< the round `bytes` belong to
        QByteArray bytes;   ///< this round's frames for the group
        quint64 perChannel[Channel::Count] = {}; ///< events of this round, by channel index
    };

    /// The group of `c`'s filter, style and framing, made (or reused) when it has none; the
    /// stream counts as one of its users until leave().
    int join(const StreamConnection &c);
    void leave(int group);

    Group &group(int group) { return m_groups[size_t(group)]; }
    const Group &group(int group) const { return m_groups[size_t(group)]; }

    /// A caught-up stream joins its group's live list.
    void makeLive(StreamConnection &c)
    {
        auto &live = m_groups[size_t(c.shareGroup())].live;
        c.liveIndex = int(live.size());
        live.push_back(&c);
    }
    /// A live stream leaves its group's live list (the order of the list is not kept).
    void leaveLive(StreamConnection &c)
    {
        auto &live = m_groups[size_t(c.shareGroup())].live;
        live[size_t(c.liveIndex)] = live.back();
        live[size_t(c.liveIndex)]->liveIndex = c.liveIndex;
        live.pop_back();
        c.liveIndex = -1;
    }

    /// Frames a round of events [first, last) for the groups it concerns: the groups of each
    /// event's download id and the groups that take every download, those with live streams
    /// only. Each such group is matched and framed once: its `bytes` hold the frames of the
    /// events its filter passes (not yet chunked), `perChannel` counts them. Returns those
    /// groups (some may have no bytes), valid until the next round.
    const std::vector<int> &frameRound(const EncodedEventPtr *first, const EncodedEventPtr *last);
    /// Drops the round's bytes (the streams hold what they still need).
    void endRound();

    /// Groups in use, and group slots ever made (in use or free for reuse).
    int size() const { return int(m_groups.size() - m_freeGroups.size()); }
    int capacity() const { return int(m_groups.size()); }
    /// The groups without a download id, and those of `downloadId` (empty when none).
    const std::vector<int> &anyDownloadGroups() const { return m_anyDownloadGroups; }
    std::vector<int> groupsOfDownload(const QString &downloadId) const
    {
        return m_downloadGroups.value(downloadId);
    }

private:
    void touch(int group);

    std::vector<Group> m_groups;
    QHash<QString, int> m_groupIds; ///< share-group key → group
    std::vector<int> m_freeGroups;
    std::vector<int> m_anyDownloadGroups;               ///< groups without a download id
    QHash<QString, std::vector<int>> m_downloadGroups; ///< download id → its groups
    quint64 m_round = 0;
    std::vector<int> m_touched; ///< the groups of the current round
};

} // namespace Hermes
