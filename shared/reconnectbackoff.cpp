#include "reconnectbackoff.h"

#include <QRandomGenerator>

#include <algorithm>
#include <cmath>

namespace Hermes {

ReconnectBackoff::ReconnectBackoff(Random random) : m_random(std::move(random))
{
    if (!m_random)
        m_random = [] { return QRandomGenerator::global()->generateDouble(); };
}

int ReconnectBackoff::boundMs(int attempt) const
{
    // 2^(n-1) overflows nothing here: the exponent stops growing once the cap is reached.
    const double bound = double(m_baseMs) * std::pow(2.0, std::clamp(attempt - 1, 0, 30));
    return int(std::min<double>(m_capMs, bound));
}

int ReconnectBackoff::delayMs(int attempt) const
{
    const double r = std::clamp(m_random(), 0.0, 1.0);
    return int(std::lround(r * boundMs(attempt)));
}

} // namespace Hermes
