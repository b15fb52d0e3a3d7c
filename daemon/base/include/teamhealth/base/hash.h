#pragma once

#include <string>
#include <string_view>

namespace teamhealth {

// XXH3-128 of `data` as 32 lowercase hex digits. Used for content hashes of quarantined
// records and for dedup ids derived from stable payload fields; not a security boundary.
std::string ContentHash(std::string_view data);

}  // namespace teamhealth
