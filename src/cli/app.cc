#include "cli/app.h"

namespace orch {

int RunApp(int, char**) { return 0; }

}  // namespace orch
