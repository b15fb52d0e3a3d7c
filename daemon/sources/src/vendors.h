#pragma once

// Factories of the vendor normalisers, one file each (jira.cc, github.cc, ...).

#include <memory>

#include "teamhealth/sources/source.h"

namespace teamhealth::sources {

std::unique_ptr<Source> MakeJiraSource(const SourceOptions& options);
std::unique_ptr<Source> MakeGithubSource(const SourceOptions& options);
std::unique_ptr<Source> MakeLinearSource(const SourceOptions& options);
std::unique_ptr<Source> MakeSlackSource(const SourceOptions& options);
std::unique_ptr<Source> MakePagerDutySource(const SourceOptions& options);
std::unique_ptr<Source> MakeOpsgenieSource(const SourceOptions& options);

}  // namespace teamhealth::sources
