#include "teamhealth/app/cli.h"

int main(int argc, char** argv) { return teamhealth::app::RunCli(argc, argv); }
