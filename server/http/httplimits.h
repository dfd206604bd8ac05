#pragma once

#include "settings/httpsettings.h"

namespace Hermes {

/// What the front door allows one client before a route sees its request: the HERMES_HTTP_*
/// settings group (see HttpSettings).
using HttpLimits = HttpSettings;

} // namespace Hermes
