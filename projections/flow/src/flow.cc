// The flow projection (see include/teamhealth/projections/flow.h).
#include "teamhealth/projections/flow.h"
