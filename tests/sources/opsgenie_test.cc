// Edge cases of the opsgenie normaliser beyond the golden files (tests/sources/golden/opsgenie).
#include <gtest/gtest.h>

#include "teamhealth/sources/source.h"
