#pragma once

#include <string>

#include "event.pb.h"

namespace teamhealth::sources {

// Renders an event as one line of canonical JSON (docs/design.md section 4): id, source, type,
// occurred_at (RFC 3339, ms), actor (or null), subject, attrs. No trailing newline.
void AppendEventJson(const schema::Event& event, std::string& out);

}  // namespace teamhealth::sources
