// The context_switching projection (see include/teamhealth/projections/context_switching.h).
#include "teamhealth/projections/context_switching.h"
