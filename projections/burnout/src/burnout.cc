// The burnout projection (see include/teamhealth/projections/burnout.h).
#include "teamhealth/projections/burnout.h"
