// Edge cases of the github normaliser beyond the golden files (tests/sources/golden/github).
#include <gtest/gtest.h>

#include "teamhealth/sources/source.h"
