#pragma once

#include <QByteArray>
#include <QString>
#include <QUrl>

namespace Hermes::UrlCredentials {

/**
 * The `user:password@` of a download URL, kept for its own transfer only.
 *
 * Qt's network access manager remembers a URL's credentials per host and port and sends them
 * with later requests to the same origin, whoever made them (measured: a download without
 * credentials got `Authorization: Basic` of an earlier one). So Qt never sees the userinfo:
 * the transfer strips it from the URL it requests (withoutUserInfo) and sends the header it
 * computes itself (basicAuthorization), on the download's own origin only (sameOrigin) — a
 * redirect to another scheme, host or port goes without it, as curl does.
 */

/// `url` without its user name and password.
QUrl withoutUserInfo(const QUrl &url);
/// `Basic base64(user:password)` (RFC 7617: the percent-decoded UTF-8 strings); empty when the
/// URL has no user name.
QByteArray basicAuthorization(const QUrl &url);
/// Same scheme, host and port (the default port counted): where the URL's credentials may go.
bool sameOrigin(const QUrl &a, const QUrl &b);
/// `url` as shown to API clients, in events and in logs: `user:***@` where it has a password,
/// `***@` where it has only a user name (often a token on its own, as in
/// `https://<token>@github.com/…`); otherwise unchanged.
QString redacted(const QString &url);

} // namespace Hermes::UrlCredentials
