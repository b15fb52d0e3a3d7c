// Edge cases of the jira normaliser beyond the golden files (tests/sources/golden/jira).
#include <gtest/gtest.h>

#include "teamhealth/sources/source.h"
