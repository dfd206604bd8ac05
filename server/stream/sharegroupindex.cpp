#include "stream/sharegroupindex.h"

#include <algorithm>

namespace Hermes {

int ShareGroupIndex::join(const StreamConnection &c)
{
    const QString key = QString::number(int(c.style())) + (c.chunked() ? u'c' : u'p') + u'/'
        + c.filter().key();
    auto it = m_groupIds.find(key);
    if (it == m_groupIds.end()) {
        int group;
        if (!m_freeGroups.empty()) {
            group = m_freeGroups.back();
            m_freeGroups.pop_back();
        } else {
            group = int(m_groups.size());
            m_groups.emplace_back();
        }
        Group &g = m_groups[size_t(group)];
        g.key = key;
        g.filter = c.filter();
        g.style = c.style();
        g.chunked = c.chunked();
        if (g.filter.downloadId.isEmpty())
            m_anyDownloadGroups.push_back(group);
        else
            m_downloadGroups[g.filter.downloadId].push_back(group);
        it = m_groupIds.insert(key, group);
    }
    ++m_groups[size_t(*it)].users;
    return *it;
}

void ShareGroupIndex::leave(int group)
{
    Group &g = m_groups[size_t(group)];
    if (--g.users > 0)
        return;
    // The last stream of a filter left: the group is reused, so distinct filters coming and
    // going never grow the table.
    const auto drop = [group](std::vector<int> &groups) {
        groups.erase(std::find(groups.begin(), groups.end(), group));
    };
    if (g.filter.downloadId.isEmpty()) {
        drop(m_anyDownloadGroups);
    } else {
        auto it = m_downloadGroups.find(g.filter.downloadId);
        drop(*it);
        if (it->empty())
            m_downloadGroups.erase(it);
    }
    m_groupIds.remove(g.key);
    g = Group();
    m_freeGroups.push_back(group);
}

const std::vector<int> &ShareGroupIndex::frameRound(const EncodedEventPtr *first,
                                                    const EncodedEventPtr *last)
{
    // Only the groups the round concerns are visited: the groups of each event's download id,
    // and the groups that take every download. Each is matched and framed once per round.
    ++m_round;
    m_touched.clear();
    for (const EncodedEventPtr *e = first; e != last; ++e) {
        if ((*e)->downloadId.isEmpty())
            continue;
        const auto it = m_downloadGroups.constFind((*e)->downloadId);
        if (it == m_downloadGroups.cend())
            continue;
        for (int group : *it) {
            Group &g = m_groups[size_t(group)];
            if (g.live.empty())
                continue;
            touch(group);
            if (g.filter.matches(**e)) {
                g.bytes += (*e)->frame(g.style);
                ++g.perChannel[(*e)->channel.index()];
            }
        }
    }
    for (int group : m_anyDownloadGroups) {
        Group &g = m_groups[size_t(group)];
        if (g.live.empty())
            continue;
        touch(group);
        for (const EncodedEventPtr *e = first; e != last; ++e) {
            if (g.filter.matches(**e)) {
                g.bytes += (*e)->frame(g.style);
                ++g.perChannel[(*e)->channel.index()];
            }
        }
    }
    return m_touched;
}

void ShareGroupIndex::endRound()
{
    for (int group : m_touched)
        m_groups[size_t(group)].bytes = QByteArray();
}

void ShareGroupIndex::touch(int group)
{
    Group &g = m_groups[size_t(group)];
    if (g.round == m_round)
        return;
    g.round = m_round;
    g.bytes.clear();
    std::fill(std::begin(g.perChannel), std::end(g.perChannel), 0);
    m_touched.push_back(group);
}

} // namespace Hermes
