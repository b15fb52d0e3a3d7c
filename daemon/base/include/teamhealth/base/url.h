#pragma once

#include <string>
#include <string_view>

namespace teamhealth {

// `text` as one URL path segment or query value (RFC 3986 section 2): the unreserved
// characters (letters, digits, - . _ ~) as they are, every other byte as %XX (upper-case hex).
std::string PercentEncode(std::string_view text);

}  // namespace teamhealth
