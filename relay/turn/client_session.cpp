#include "relay/turn/client_session.hpp"

#include <algorithm>

namespace xdpturn::turn {

ClientSession::ClientSession(std::string user, std::string password, std::array<std::uint8_t, 4> tag)
    : user_(std::move(user)), password_(std::move(password)), tag_(tag) {}

stun::TransactionId ClientSession::next_transaction() {
    ++counter_;
    stun::TransactionId id{};
    for (std::size_t i = 0; i < 8; ++i) id[i] = static_cast<std::uint8_t>(counter_ >> (8 * i));
    std::copy(tag_.begin(), tag_.end(), id.begin() + 8);
    return id;
}

std::vector<std::uint8_t> ClientSession::request(stun::Method method, const Attributes& attributes) {
    transaction_ = next_transaction();
    stun::MessageBuilder builder(method, stun::Class::request, transaction_);
    attributes(builder);
    if (!signs()) return builder.finish();
    builder.add_text(stun::attribute::username, user_)
        .add_text(stun::attribute::realm, realm_)
        .add_text(stun::attribute::nonce, nonce_);
    const auto key = stun::long_term_key(user_, realm_, password_);
    return builder.finish(Bytes(key), true);
}

bool ClientSession::take_challenge(const stun::Message& answer) {
    if (answer.message_class != stun::Class::error) return false;
    const stun::Attribute* error = answer.find(stun::attribute::error_code);
    const auto code = error ? stun::decode_error_code(*error) : Result<stun::ErrorCode>(Error{""});
    if (!code || (code->code != 401 && code->code != 438)) return false;
    const stun::Attribute* realm = answer.find(stun::attribute::realm);
    const stun::Attribute* nonce = answer.find(stun::attribute::nonce);
    if (realm == nullptr || nonce == nullptr) return false;
    realm_ = std::string(stun::as_text(*realm));
    nonce_ = std::string(stun::as_text(*nonce));
    return true;
}

}  // namespace xdpturn::turn
