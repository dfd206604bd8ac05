#pragma once

#include "result.h"

namespace Hermes {

/// The HTTP status of an error, for the routes: the one place an Error::Kind becomes a status
/// (nothing below http/ knows HTTP).
constexpr int httpStatusOf(Error::Kind kind)
{
    switch (kind) {
    case Error::Kind::Invalid: return 400;
    case Error::Kind::NotFound: return 404;
    case Error::Kind::Conflict: return 409;
    case Error::Kind::Unavailable: return 503;
    case Error::Kind::Failed: return 500;
    }
    return 500;
}

} // namespace Hermes
