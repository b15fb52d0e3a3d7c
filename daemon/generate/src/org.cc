// The organisation: teams, people, identities, and the directory TOML that maps them.
#include <array>
#include <span>
#include <string>

#include "model.h"

namespace teamhealth::generate::internal {
namespace {

struct TeamSpec {
  std::string_view name, jira_key;
};
constexpr std::array<TeamSpec, 8> kTeams = {{{"payments", "PAY"},
                                             {"search", "SRCH"},
                                             {"platform", "PLAT"},
                                             {"mobile", "MOB"},
                                             {"data", "DATA"},
                                             {"growth", "GRO"},
                                             {"identity", "IAM"},
                                             {"billing", "BILL"}}};

struct ZoneSpec {
  std::string_view zone;
  int utc_offset_min;  // in February (the default window): standard time everywhere
};
constexpr std::array<ZoneSpec, 4> kZones = {
    {{"Europe/London", 0}, {"America/New_York", -300}, {"Asia/Tokyo", 540}, {"UTC", 0}}};

constexpr std::array<std::string_view, 40> kNames = {
    "Ada",   "Bilal", "Chen",  "Dara",   "Emeka", "Farah", "Goran", "Hana",    "Ines",  "Jonas",
    "Kenji", "Lena",  "Mateo", "Nadia",  "Omar",  "Priya", "Quinn", "Rosa",    "Sami",  "Tariq",
    "Uma",   "Vera",  "Wei",   "Ximena", "Yusuf", "Zoe",   "Arjun", "Beatriz", "Cyrus", "Divya",
    "Elif",  "Felix", "Greta", "Hugo",   "Ivan",  "Jia",   "Kofi",  "Lucia",   "Mika",  "Noor"};

// The non-engineering teams: people who ask engineers things (docs/design.md section 7.6, "who
// interrupts us"), in business hours of their own zone.
struct AskingTeamSpec {
  std::string_view name, zone;
  int utc_offset_min;
};
constexpr std::array<AskingTeamSpec, 2> kAskingTeams = {
    {{"support", "America/New_York", -300}, {"sales", "Europe/London", 0}}};
constexpr int kAskingTeamSize = 5;  // privacy.min_group_size: their own series stay visible

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

void AppendTomlString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int Rng::Uniform(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }

int Rng::Between(int lo, int hi) { return lo + Uniform(hi - lo + 1); }

double Rng::Real() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

std::string Rng::Id(int length, bool hex) {
  static constexpr std::string_view kAlnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  static constexpr std::string_view kHex = "0123456789abcdef";
  const std::string_view alphabet = hex ? kHex : kAlnum;
  std::string out;
  for (int i = 0; i < length; ++i) out += alphabet[Uniform(static_cast<int>(alphabet.size()))];
  return out;
}

namespace {

// Adds person `i` (a position in the whole organisation) to team `team`.
void AddPerson(Org& org, int i, int team) {
  Person p;
  p.team = team;
  const std::string_view name = kNames[i % kNames.size()];
  const std::string suffix = i < static_cast<int>(kNames.size()) ? "" : std::to_string(i);
  p.display = std::string(name) + (suffix.empty() ? "" : " " + suffix);
  p.handle = Lower(name) + suffix;
  // Identities derive from the position only (see model.h). Formats of docs/design.md section 4:
  // a 24-hex Jira accountId, a GitHub login, a Slack U-id, a PagerDuty P-id.
  Rng ids(0x5eed0000ULL + static_cast<uint64_t>(i));
  p.jira = "5f" + ids.Id(22, true);
  p.github = p.handle + "-acme";
  p.slack = "U0" + ids.Id(9, false);
  p.pagerduty = "P" + ids.Id(6, false);
  p.utc_offset_min = org.teams[team].utc_offset_min;
  org.teams[team].members.push_back(i);
  org.people.push_back(std::move(p));
}

// Who works on two projects at once: every other member of the overloaded team, one member
// (the second) of each healthy team.
void MarkTwoProjectEngineers(Org& org) {
  for (int t = 0; t < org.engineering_teams; ++t) {
    const Team& team = org.teams[t];
    for (size_t k = 0; k < team.members.size(); ++k) {
      org.people[team.members[k]].two_projects = team.overloaded ? k % 2 == 0 : k == 1;
    }
  }
}

}  // namespace

Org BuildOrg(const Options& options) {
  Org org;
  for (int t = 0; t < options.teams; ++t) {
    Team team;
    // Beyond the eight names, the names again with a number: payments2, PAY2.
    const TeamSpec& spec = kTeams[t % kTeams.size()];
    const ZoneSpec& zone = kZones[t % kZones.size()];
    const std::string round = t < static_cast<int>(kTeams.size())
                                  ? ""
                                  : std::to_string(t / kTeams.size() + 1);
    team.name = std::string(spec.name) + round;
    team.jira_key = std::string(spec.jira_key) + round;
    team.zone = std::string(zone.zone);
    team.utc_offset_min = zone.utc_offset_min;
    team.repo = "acme/" + team.name + "-service";
    team.side_jira_key = team.jira_key + "OPS";
    team.side_repo = "acme/" + team.name + "-tools";
    // Fixed-width ids in the vendors' alphabets, stable per team.
    team.service_id = "PSVC" + std::to_string(100 + t);
    team.policy_id = "PPOL" + std::to_string(100 + t);
    team.schedule_id = "PSCH" + std::to_string(100 + t);
    team.channel = "C0" + Lower(spec.jira_key) + "TEAM";
    for (char& c : team.channel) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    team.overloaded = t == 0;
    org.teams.push_back(std::move(team));
  }
  for (int i = 0; i < options.people; ++i) AddPerson(org, i, i % options.teams);
  org.engineering_teams = options.teams;
  org.engineers = options.people;
  MarkTwoProjectEngineers(org);
  // The asking teams and their people come after the engineers, so that adding them changed
  // no engineer's position, identities or history.
  int next = options.people;
  for (const AskingTeamSpec& spec : kAskingTeams) {
    Team team;
    team.name = std::string(spec.name);
    team.zone = std::string(spec.zone);
    team.utc_offset_min = spec.utc_offset_min;
    team.channel = "C0" + team.name + "TEAM";
    for (char& c : team.channel) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    org.teams.push_back(std::move(team));
    for (int k = 0; k < kAskingTeamSize; ++k) {
      AddPerson(org, next++, static_cast<int>(org.teams.size()) - 1);
    }
  }
  return org;
}

std::string DirectoryToml(const Org& org, const Options& options) {
  std::string out;
  out += "# People directory of the synthetic organisation made by `teamhealth generate`\n";
  out += "# (seed " + std::to_string(options.seed) + ", " + std::to_string(options.teams) +
         " teams, " + std::to_string(options.people) + " people). Paste into a config.\n";
  for (const Team& t : org.teams) {
    out += "\n[[directory.teams]]\nname = ";
    AppendTomlString(out, t.name);
    out += "\ntimezone = ";
    AppendTomlString(out, t.zone);
    out += "\n";
  }
  for (size_t i = 0; i < org.people.size(); ++i) {
    const Person& p = org.people[i];
    out += "\n[[directory.people]]\nhandle = ";
    AppendTomlString(out, p.handle);
    out += "\nteam = ";
    AppendTomlString(out, org.teams[p.team].name);
    out += "\nidentities = [";
    if (org.Engineering(static_cast<int>(i))) {
      AppendTomlString(out, "jira:" + p.jira);
      out += ", ";
      AppendTomlString(out, "github:" + p.github);
      out += ", ";
    }
    AppendTomlString(out, "slack:" + p.slack);
    if (org.Engineering(static_cast<int>(i))) {
      out += ", ";
      AppendTomlString(out, "pagerduty:" + p.pagerduty);
    }
    out += "]\n";  // support and sales only chat
  }
  // Services and projects belong to the engineering teams.
  const std::span<const Team> engineering(org.teams.data(),
                                          static_cast<size_t>(org.engineering_teams));
  out += "\n[directory.services]\n";
  for (const Team& t : engineering) {
    AppendTomlString(out, "pagerduty:" + t.service_id);
    out += " = ";
    AppendTomlString(out, t.name);
    out += "\n";
  }
  out += "\n[directory.projects]\n";
  for (const Team& t : engineering) {
    for (const std::string& project : {"jira:" + t.jira_key, "github:" + t.repo,
                                       "jira:" + t.side_jira_key, "github:" + t.side_repo}) {
      AppendTomlString(out, project);
      out += " = ";
      AppendTomlString(out, t.name);
      out += "\n";
    }
  }
  return out;
}

}  // namespace teamhealth::generate::internal
