// Unguessable identifiers for what a client reaches by id alone (sessions, device arrays).
#pragma once

#include <string>

namespace tensord::server {

// 128 bits from the kernel's CSPRNG (getrandom), as 32 hex digits. Never from a seeded
// generator, whose state a client could reconstruct from ids it was given. Throws when the
// kernel gives no randomness: failing the call is the safe answer.
std::string RandomId();
// True for what RandomId makes: 32 lowercase hex digits.
bool IsRandomId(const std::string& id);

}  // namespace tensord::server
