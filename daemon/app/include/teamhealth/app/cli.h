#pragma once

namespace teamhealth::app {

// The command line of the one `teamhealth` executable: dispatches to a subcommand and returns
// the process exit status.
int RunCli(int argc, char** argv);

}  // namespace teamhealth::app
