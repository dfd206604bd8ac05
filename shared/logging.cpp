#include "logging.h"

namespace Hermes {
Q_LOGGING_CATEGORY(lcConfig, "hermes.config", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "hermes.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHub, "hermes.hub", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAuth, "hermes.auth", QtInfoMsg)
Q_LOGGING_CATEGORY(lcBroker, "hermes.broker", QtInfoMsg)
Q_LOGGING_CATEGORY(lcClient, "hermes.client", QtInfoMsg)
} // namespace Hermes
