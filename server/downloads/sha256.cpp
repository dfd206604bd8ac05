#include "downloads/sha256.h"

#include <QByteArray>
#include <QCoreApplication>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cerrno>
#include <unistd.h>

namespace Hermes {

// libcrypto initialises itself (its configuration) on the first thread that uses it, and keeps
// per-thread state of that thread's; on a pool thread still alive at exit that state is never
// freed (LeakSanitizer reports it). Done here on the application's thread, OPENSSL_cleanup
// frees it at exit.
static void initCrypto()
{
    OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, nullptr);
}
Q_COREAPP_STARTUP_FUNCTION(initCrypto)

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new())
{
    reset();
}

Sha256::~Sha256()
{
    EVP_MD_CTX_free(m_ctx);
}

Sha256::Sha256(Sha256 &&other) noexcept : m_ctx(other.m_ctx)
{
    other.m_ctx = nullptr;
}

Sha256 &Sha256::operator=(Sha256 &&other) noexcept
{
    std::swap(m_ctx, other.m_ctx);
    return *this;
}

void Sha256::reset()
{
    if (!m_ctx)
        m_ctx = EVP_MD_CTX_new();
    // Only an allocation failure makes these fail; hex() then says so by being empty.
    if (m_ctx && EVP_DigestInit_ex(m_ctx, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(m_ctx);
        m_ctx = nullptr;
    }
}

void Sha256::add(const char *data, qsizetype size)
{
    if (m_ctx && size > 0)
        EVP_DigestUpdate(m_ctx, data, size_t(size));
}

QString Sha256::hex() const
{
    if (!m_ctx)
        return {};
    // Final on a copy: the running state goes on.
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    const bool ok = copy && EVP_MD_CTX_copy_ex(copy, m_ctx) == 1 && EVP_DigestFinal_ex(copy, digest, &length) == 1;
    EVP_MD_CTX_free(copy);
    if (!ok)
        return {};
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(digest), int(length)).toHex());
}

bool Sha256::addFile(Sha256 &hash, int fd, qint64 from, qint64 to, const std::atomic<bool> *cancelled)
{
    QByteArray buffer(int(qBound(qint64(1), to - from, qint64(1024 * 1024))), Qt::Uninitialized);
    qint64 at = from;
    while (at < to) {
        if (cancelled && cancelled->load(std::memory_order_relaxed))
            return false;
        const ssize_t n = ::pread(fd, buffer.data(), size_t(qMin<qint64>(buffer.size(), to - at)), at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        hash.add(buffer.constData(), n);
        at += n;
    }
    return true;
}

QString Sha256::ofFile(int fd, qint64 length)
{
    Sha256 hash;
    return addFile(hash, fd, 0, length) ? hash.hex() : QString();
}

} // namespace Hermes
