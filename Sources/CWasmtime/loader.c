// Resolves cloister_wasmtime_api from a wasmtime C API library opened with dlopen.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "cloister_wasmtime.h"

#define RESOLVE(name)                                                                                     \
    do {                                                                                                  \
        void *symbol = dlsym(handle, #name);                                                              \
        if (symbol == NULL) {                                                                             \
            snprintf(error, error_size, "%s has no symbol %s: not the wasmtime " CLOISTER_WASMTIME_VERSION \
                     " C API", path, #name);                                                              \
            dlclose(handle);                                                                              \
            return NULL;                                                                                  \
        }                                                                                                 \
        memcpy(&api->name, &symbol, sizeof symbol);                                                       \
    } while (0)

static cloister_wasmtime_api loaded;

const cloister_wasmtime_api *cloister_wasmtime_load(const char *path, char *error, size_t error_size) {
    cloister_wasmtime_api *api = &loaded;
    // RTLD_LOCAL: the library's symbols never interpose on anything else in the process.
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        snprintf(error, error_size, "cannot load %s: %s", path, reason ? reason : "unknown error");
        return NULL;
    }
    if (dlsym(handle, CLOISTER_WASMTIME_VERSION_MARKER) == NULL) {
        snprintf(error, error_size, "%s is not wasmtime " CLOISTER_WASMTIME_VERSION " (no %s)", path,
                 CLOISTER_WASMTIME_VERSION_MARKER);
        dlclose(handle);
        return NULL;
    }
    RESOLVE(wasm_config_new);
    RESOLVE(wasmtime_config_epoch_interruption_set);
    RESOLVE(wasmtime_config_wasm_threads_set);
    RESOLVE(wasmtime_config_shared_memory_set);
    RESOLVE(wasmtime_config_wasm_exceptions_set);
    RESOLVE(wasmtime_config_wasm_multi_memory_set);
    RESOLVE(wasmtime_config_max_wasm_stack_set);
    RESOLVE(wasmtime_config_cranelift_opt_level_set);
    RESOLVE(wasmtime_config_parallel_compilation_set);
    RESOLVE(wasmtime_config_host_memory_creator_set);
    RESOLVE(wasm_engine_new_with_config);
    RESOLVE(wasm_engine_delete);
    RESOLVE(wasmtime_engine_increment_epoch);
    RESOLVE(wasmtime_module_validate);
    RESOLVE(wasmtime_module_new);
    RESOLVE(wasmtime_module_delete);
    RESOLVE(wasmtime_module_serialize);
    RESOLVE(wasmtime_module_deserialize);
    RESOLVE(wasm_byte_vec_delete);
    RESOLVE(wasm_valtype_new);
    RESOLVE(wasm_valtype_vec_new);
    RESOLVE(wasm_functype_new);
    RESOLVE(wasm_functype_delete);
    RESOLVE(wasmtime_memorytype_new);
    RESOLVE(wasm_memorytype_delete);
    RESOLVE(wasmtime_linker_new);
    RESOLVE(wasmtime_linker_delete);
    RESOLVE(wasmtime_linker_define_func_unchecked);
    RESOLVE(wasmtime_linker_define);
    RESOLVE(wasmtime_linker_instantiate_pre);
    RESOLVE(wasmtime_instance_pre_instantiate);
    RESOLVE(wasmtime_instance_pre_delete);
    RESOLVE(wasmtime_instance_export_get);
    RESOLVE(wasmtime_store_new);
    RESOLVE(wasmtime_store_context);
    RESOLVE(wasmtime_store_delete);
    RESOLVE(wasmtime_store_limiter);
    RESOLVE(wasmtime_context_get_data);
    RESOLVE(wasmtime_context_set_epoch_deadline);
    RESOLVE(wasmtime_store_epoch_deadline_callback);
    RESOLVE(wasmtime_caller_context);
    RESOLVE(wasmtime_func_call_unchecked);
    RESOLVE(wasmtime_memory_data);
    RESOLVE(wasmtime_memory_data_size);
    RESOLVE(wasmtime_memory_grow);
    RESOLVE(wasmtime_sharedmemory_new);
    RESOLVE(wasmtime_sharedmemory_delete);
    RESOLVE(wasmtime_sharedmemory_data);
    RESOLVE(wasmtime_sharedmemory_data_size);
    RESOLVE(wasmtime_error_new);
    RESOLVE(wasmtime_error_message);
    RESOLVE(wasmtime_error_delete);
    RESOLVE(wasmtime_trap_new);
    RESOLVE(wasmtime_trap_code);
    RESOLVE(wasm_trap_message);
    RESOLVE(wasm_trap_delete);
    // The handle stays open for the life of the process: compiled code and stores live in it.
    return api;
}

size_t cloister_wasmtime_extern_of_offset(void) { return offsetof(wasmtime_extern_t, of); }

size_t cloister_wasmtime_memory_request_kind_offset(void) { return offsetof(wasmtime_memory_request_t, kind); }
