#pragma once

#include <QString>
#include <QtGlobal>

#include <atomic>

struct evp_md_ctx_st;

namespace Hermes {

/**
 * An incremental SHA-256 over OpenSSL's libcrypto (EVP): the digest of a download, fed while
 * its bytes arrive. Not QCryptographicHash: on this project's boxes Qt 6.4's portable SHA-256
 * ran at about a tenth of libcrypto's (measured 66 vs 640 MB/s on a loaded 2-core box,
 * 1.78 GB/s for `openssl speed` idle), which uses the CPU's SHA extensions (SHA-NI) when it
 * has them. libcrypto is on every box that runs Qt's TLS (libssl3), so nothing new is shipped.
 *
 * Move-only; one owner, one thread at a time.
 */
class Sha256 final
{
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256 &&other) noexcept;
    Sha256 &operator=(Sha256 &&other) noexcept;
    Sha256(const Sha256 &) = delete;
    Sha256 &operator=(const Sha256 &) = delete;

    /// Starts over, as if nothing had been added.
    void reset();
    void add(const char *data, qsizetype size);
    /// The digest of everything added so far, lower-case hex; adding may go on after it.
    QString hex() const;

    /// The digest of bytes [0, length) of `fd` (pread in 1 MiB blocks); empty when they cannot
    /// all be read. For a thread of the pool: it blocks.
    static QString ofFile(int fd, qint64 length);
    /// Feeds bytes [from, to) of `fd` into `hash`; false when they cannot all be read, or when
    /// `cancelled` (checked between blocks) is set.
    static bool addFile(Sha256 &hash, int fd, qint64 from, qint64 to, const std::atomic<bool> *cancelled = nullptr);

private:
    evp_md_ctx_st *m_ctx = nullptr;
};

} // namespace Hermes
