// Edge cases of the pagerduty normaliser beyond the golden files (tests/sources/golden/pagerduty).
#include <gtest/gtest.h>

#include "teamhealth/sources/source.h"
