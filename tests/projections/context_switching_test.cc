// Golden scenario and properties of the context_switching projection.
#include <gtest/gtest.h>

#include "scenario.h"
#include "teamhealth/projections/context_switching.h"
