// Edge cases of the linear normaliser beyond the golden files (tests/sources/golden/linear).
#include <gtest/gtest.h>

#include "teamhealth/sources/source.h"
