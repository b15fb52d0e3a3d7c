// Golden scenario and properties of the burnout projection.
#include <gtest/gtest.h>

#include "scenario.h"
#include "teamhealth/projections/burnout.h"
