// Golden scenario and properties of the flow projection.
#include <gtest/gtest.h>

#include "scenario.h"
#include "teamhealth/projections/flow.h"
