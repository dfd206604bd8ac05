#include "downloads/download.h"

namespace Hermes {

static const char *const StatusNames[] = {"pending",   "downloading", "processing", "paused",
                                          "completed", "failed",      "cancelled"};

QString toString(DownloadStatus status)
{
    return QString::fromLatin1(StatusNames[int(status)]);
}

std::optional<DownloadStatus> downloadStatusFromString(QStringView text)
{
    for (int i = 0; i < int(std::size(StatusNames)); ++i) {
        if (text == QLatin1StringView(StatusNames[i]))
            return DownloadStatus(i);
    }
    return std::nullopt;
}

} // namespace Hermes
