#pragma once

#include <QLoggingCategory>

namespace Hermes {
// One category per area, so `QT_LOGGING_RULES="hermes.http.debug=true"` turns on just that.
Q_DECLARE_LOGGING_CATEGORY(lcConfig)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcHub)
Q_DECLARE_LOGGING_CATEGORY(lcAuth)
Q_DECLARE_LOGGING_CATEGORY(lcBroker)
Q_DECLARE_LOGGING_CATEGORY(lcClient)
} // namespace Hermes
