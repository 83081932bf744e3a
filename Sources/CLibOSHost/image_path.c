#define _GNU_SOURCE
#include "cloister_host.h"
#include <dlfcn.h>
#include <stddef.h>

const char *cloister_host_image_path(void) {
    Dl_info info;
    if (dladdr((const void *)&cloister_host_image_path, &info) == 0) return NULL;
    return info.dli_fname;
}
