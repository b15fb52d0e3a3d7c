// Edge cases of the slack normaliser beyond the golden files (tests/sources/golden/slack).
#include <gtest/gtest.h>

#include "teamhealth/sources/source.h"
