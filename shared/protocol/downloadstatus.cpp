#include "protocol/downloadstatus.h"

#include "protocol/wirenames.h"

namespace Hermes {

static constexpr WireNames<DownloadStatus, DownloadStatusCount> Statuses{
    {QLatin1StringView("pending"), QLatin1StringView("downloading"),
     QLatin1StringView("processing"), QLatin1StringView("paused"),
     QLatin1StringView("completed"), QLatin1StringView("failed"),
     QLatin1StringView("cancelled")}};
static constexpr WireNames<DownloadAction, DownloadActionCount> Actions{
    {QLatin1StringView("pause"), QLatin1StringView("resume"), QLatin1StringView("cancel"),
     QLatin1StringView("retry")}};

static constexpr WireNames<DownloadPhase, DownloadPhaseCount> Phases{
    {QLatin1StringView("waiting_for_connection"), QLatin1StringView("connecting"),
     QLatin1StringView("transferring"), QLatin1StringView("stalled"), QLatin1StringView("retrying")}};

QLatin1StringView wireName(DownloadStatus status) { return Statuses(status); }
QLatin1StringView wireName(DownloadPhase phase) { return Phases(phase); }
QLatin1StringView wireName(DownloadAction action) { return Actions(action); }

template<> std::optional<DownloadStatus> fromWire<DownloadStatus>(QStringView text)
{
    return Statuses.parse(text);
}

template<> std::optional<DownloadAction> fromWire<DownloadAction>(QStringView text)
{
    return Actions.parse(text);
}

template<> std::optional<DownloadPhase> fromWire<DownloadPhase>(QStringView text)
{
    return Phases.parse(text);
}

QList<DownloadStatus> allDownloadStatuses()
{
    const auto values = decltype(Statuses)::values();
    return QList<DownloadStatus>(values.begin(), values.end());
}

QList<DownloadAction> allDownloadActions()
{
    const auto values = decltype(Actions)::values();
    return QList<DownloadAction>(values.begin(), values.end());
}

namespace DownloadRules {

std::optional<DownloadStatus> after(DownloadStatus from, DownloadAction action)
{
    using S = DownloadStatus;
    switch (action) {
    case DownloadAction::Pause:
        if (from == S::Pending || from == S::Downloading)
            return S::Paused;
        break;
    case DownloadAction::Resume:
        if (from == S::Paused)
            return S::Pending;
        break;
    case DownloadAction::Cancel:
        // Verifying is left to finish: the file is whole, and moving it is a moment's work.
        if (from != S::Completed && from != S::Cancelled && from != S::Processing)
            return S::Cancelled;
        break;
    case DownloadAction::Retry:
        if (from == S::Failed || from == S::Cancelled)
            return S::Pending;
        break;
    }
    return std::nullopt;
}

QList<DownloadStatus> appliesTo(DownloadAction action)
{
    QList<DownloadStatus> out;
    for (DownloadStatus s : allDownloadStatuses()) {
        if (allows(s, action))
            out.append(s);
    }
    return out;
}

} // namespace DownloadRules

} // namespace Hermes
