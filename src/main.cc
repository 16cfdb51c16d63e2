#include "cli/app.h"

int main(int argc, char** argv) { return orch::RunApp(argc, argv); }
