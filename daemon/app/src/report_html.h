#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "facts.h"
#include "teams.h"
#include "teamhealth/base/time.h"
#include "teamhealth/projections/window.h"

namespace teamhealth::app {

// What the retro page of one team shows (docs/design.md section 8), borrowed from one replay:
// the report window [from, to) and the previous window of the same length [prev_from, from),
// and the team's facts inside [from, to) for the per-day and per-hour charts. Everything
// borrowed must outlive RenderRetroPage.
struct RetroPageData {
  std::string team;
  std::string zone;         // IANA zone of the day and hour charts
  std::string zone_reason;  // why that zone, for the page
  EpochMillis prev_from = 0, from = 0, to = 0;
  int members = 0;
  int min_group_size = 0;
  bool small = false;  // fewer members than min_group_size: sensitive series withheld
  const projections::WindowSink* current = nullptr;
  const projections::WindowSink* previous = nullptr;
  const std::vector<Fact>* facts = nullptr;
};

// One self-contained HTML page: inline CSS and SVG (every svg has a viewBox and width="100%"),
// no scripts, no external references; every text escaped with HtmlEscape. Team-level numbers
// only (no per-person series).
std::string RenderRetroPage(const RetroPageData& data);

// The daemon's `/`: the teams, each linked to its page.
std::string RenderTeamList(const std::vector<TeamInfo>& teams, EpochMillis at);

// A small page for an error answer (404, 400) with `message`.
std::string RenderErrorPage(int status, std::string_view message);

// `text` with &, <, >, " and ' replaced by entities: safe in element text and quoted attributes.
std::string HtmlEscape(std::string_view text);

}  // namespace teamhealth::app
