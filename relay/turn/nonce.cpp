#include "relay/turn/nonce.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>
#include <vector>

namespace xdpturn::turn {

namespace {

constexpr std::size_t time_digits = 16;
constexpr std::size_t tag_bytes = 16;  // of the 32-byte HMAC: 128 bits

void append_address(std::vector<std::uint8_t>& bytes, const stun::TransportAddress& address) {
    bytes.push_back(address.ipv6 ? 6 : 4);
    bytes.insert(bytes.end(), address.address.begin(), address.address.end());
    bytes.push_back(static_cast<std::uint8_t>(address.port >> 8));
    bytes.push_back(static_cast<std::uint8_t>(address.port));
}

std::string hex(const std::uint8_t* bytes, std::size_t count) {
    std::string text;
    char pair[3];
    for (std::size_t i = 0; i < count; ++i) {
        std::snprintf(pair, sizeof(pair), "%02x", bytes[i]);
        text += pair;
    }
    return text;
}

}  // namespace

NonceMaker::NonceMaker(std::optional<Key> key) {
    if (key) {
        key_ = *key;
    } else if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1) {
        throw std::runtime_error("OpenSSL RAND_bytes failed: no key for the nonces");
    }
}

std::string NonceMaker::tag(std::uint64_t issued, const stun::TransportAddress& client,
                            const stun::TransportAddress& server) const {
    std::vector<std::uint8_t> message;
    for (int shift = 56; shift >= 0; shift -= 8) message.push_back(static_cast<std::uint8_t>(issued >> shift));
    append_address(message, client);
    append_address(message, server);
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned length = 0;
    HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), message.data(), message.size(), digest.data(),
         &length);
    return hex(digest.data(), tag_bytes);
}

std::string NonceMaker::make(const stun::TransportAddress& client, const stun::TransportAddress& server,
                             std::chrono::milliseconds now) const {
    const auto issued = static_cast<std::uint64_t>(now.count());
    char time[time_digits + 1];
    std::snprintf(time, sizeof(time), "%016llx", static_cast<unsigned long long>(issued));
    return time + tag(issued, client, server);
}

bool NonceMaker::valid(std::string_view nonce, const stun::TransportAddress& client,
                       const stun::TransportAddress& server, std::chrono::milliseconds now,
                       std::chrono::milliseconds lifetime) const {
    if (nonce.size() != time_digits + 2 * tag_bytes) return false;
    std::uint64_t issued = 0;
    for (char digit : nonce.substr(0, time_digits)) {
        const int value = digit >= '0' && digit <= '9'   ? digit - '0'
                          : digit >= 'a' && digit <= 'f' ? digit - 'a' + 10
                                                         : -1;
        if (value < 0) return false;
        issued = issued << 4 | static_cast<std::uint64_t>(value);
    }
    const auto at = static_cast<std::uint64_t>(now.count());
    if (issued > at || at - issued > static_cast<std::uint64_t>(lifetime.count())) return false;
    const std::string expected = tag(issued, client, server);
    const std::string_view given = nonce.substr(time_digits);
    return CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

}  // namespace xdpturn::turn
