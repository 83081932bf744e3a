#include "cloister.h"
/* The ABI is header-only; this file gives SwiftPM a C target to build. */
