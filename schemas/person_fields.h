#pragma once

#include <string_view>

namespace teamhealth::schema {

// Whether attribute `name` of an event of `type` holds person references (a string or a list
// of them), per DESIGN section 4. The event log replaces these, and the actor, by pseudonyms.
bool IsPersonAttr(std::string_view type, std::string_view name);

}  // namespace teamhealth::schema
