/*
 * cloister_wasmtime.h — Cloister's own declarations of the subset of wasmtime's C API the LibOS
 * uses, and a loader that resolves them from the library at run time (dlopen).
 *
 * The layouts and signatures are those of wasmtime 51.0.0's headers (crates/c-api/include in
 * bytecodealliance/wasmtime, and the wheel's generated `_bindings.py`). Nothing here links
 * against wasmtime: the package builds, and the WasmKit engine runs, with no library present.
 * `cloister_wasmtime_load` refuses a library unless every symbol below and the version marker
 * of exactly this release resolve, so a different release can never be called through a
 * silently wrong ABI. Tests/LibOSTests/WasmtimeABITests.swift checks the struct layouts.
 */
#ifndef CLOISTER_WASMTIME_H
#define CLOISTER_WASMTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nullability for the Swift importer (the API's members are never null once loaded); plain C
 * compilers without the extension ignore it. */
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wnullability-completeness"
#else
#define _Nonnull
#define _Nullable
#endif

/* The release these declarations match, and the symbol only that release exports. */
#define CLOISTER_WASMTIME_VERSION "51.0.0"
#define CLOISTER_WASMTIME_VERSION_MARKER "resolve_vmctx_memory_ptr_51_0_0"

/* ---- Opaque types ---------------------------------------------------------------------- */
typedef struct wasm_config_t wasm_config_t;
typedef struct wasm_engine_t wasm_engine_t;
typedef struct wasm_valtype_t wasm_valtype_t;
typedef struct wasm_functype_t wasm_functype_t;
typedef struct wasm_memorytype_t wasm_memorytype_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasmtime_module wasmtime_module_t;
typedef struct wasmtime_linker wasmtime_linker_t;
typedef struct wasmtime_instance_pre wasmtime_instance_pre_t;
typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_caller wasmtime_caller_t;
typedef struct wasmtime_sharedmemory wasmtime_sharedmemory_t;

/* ---- Plain structures ------------------------------------------------------------------ */
typedef struct wasm_byte_vec_t {
    size_t size;
    uint8_t *data;
} wasm_byte_vec_t;

typedef struct wasm_valtype_vec_t {
    size_t size;
    wasm_valtype_t **data;
} wasm_valtype_vec_t;

typedef uint8_t wasm_valkind_t;
#define CLOISTER_WASM_I32 0
#define CLOISTER_WASM_I64 1

typedef struct wasmtime_func {
    uint64_t store_id;
    void *__private;
} wasmtime_func_t;

typedef struct wasmtime_memory {
    struct {
        uint64_t store_id;
        uint32_t __private1;
    };
    uint32_t __private2;
} wasmtime_memory_t;

typedef struct wasmtime_table {
    struct {
        uint64_t store_id;
        uint32_t __private1;
    };
    uint32_t __private2;
} wasmtime_table_t;

typedef struct wasmtime_global {
    uint64_t store_id;
    uint32_t __private1;
    uint32_t __private2;
    uint32_t __private3;
} wasmtime_global_t;

typedef struct wasmtime_tag {
    struct {
        uint64_t store_id;
        uint32_t __private1;
    };
    uint32_t __private2;
} wasmtime_tag_t;

typedef struct wasmtime_instance {
    uint64_t store_id;
    size_t __private;
} wasmtime_instance_t;

typedef uint8_t wasmtime_extern_kind_t;
#define CLOISTER_WASMTIME_EXTERN_FUNC 0
#define CLOISTER_WASMTIME_EXTERN_MEMORY 3
#define CLOISTER_WASMTIME_EXTERN_SHAREDMEMORY 4

typedef union wasmtime_extern_union {
    wasmtime_func_t func;
    wasmtime_global_t global;
    wasmtime_table_t table;
    wasmtime_memory_t memory;
    wasmtime_sharedmemory_t *sharedmemory;
    wasmtime_tag_t tag;
} wasmtime_extern_union_t;

typedef struct wasmtime_extern {
    wasmtime_extern_kind_t kind;
    wasmtime_extern_union_t of;
} wasmtime_extern_t;

typedef union wasmtime_val_raw {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    uint8_t v128[16];
    uint32_t anyref;
    uint32_t externref;
    uint32_t exnref;
    void *funcref;
} wasmtime_val_raw_t;

typedef uint8_t wasmtime_trap_code_t;
typedef uint8_t wasmtime_update_deadline_kind_t;
#define CLOISTER_WASMTIME_UPDATE_DEADLINE_CONTINUE 0
typedef uint8_t wasmtime_opt_level_t;
#define CLOISTER_WASMTIME_OPT_LEVEL_SPEED 1

/* Custom linear memories (wasmtime_config_host_memory_creator_set). */
typedef uint8_t *(*wasmtime_memory_get_callback_t)(void *env, size_t *byte_size, size_t *byte_capacity);
typedef wasmtime_error_t *(*wasmtime_memory_grow_callback_t)(void *env, size_t new_size);

typedef struct wasmtime_linear_memory {
    void *env;
    wasmtime_memory_get_callback_t get_memory;
    wasmtime_memory_grow_callback_t grow_memory;
    void (*finalizer)(void *);
} wasmtime_linear_memory_t;

typedef uint8_t wasmtime_memory_kind_t;
#define CLOISTER_WASMTIME_MEMORY_KIND_LINEAR_MEMORY 0

typedef struct wasmtime_memory_request {
    const wasm_memorytype_t *ty;
    size_t minimum;
    size_t maximum;
    size_t reserved_size_in_bytes;
    size_t guard_size_in_bytes;
    wasmtime_memory_kind_t kind;
} wasmtime_memory_request_t;

typedef wasmtime_error_t *(*wasmtime_new_memory_callback_t)(
    void *env, const wasmtime_memory_request_t *request, wasmtime_linear_memory_t *memory_ret);

typedef struct wasmtime_memory_creator {
    void *env;
    wasmtime_new_memory_callback_t new_memory;
    void (*finalizer)(void *);
} wasmtime_memory_creator_t;

/* Callbacks. */
typedef wasm_trap_t *(*wasmtime_func_unchecked_callback_t)(
    void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args_and_results, size_t num_args_and_results);
typedef wasmtime_error_t *(*cloister_wasmtime_epoch_callback_t)(
    wasmtime_context_t *context, void *data, uint64_t *epoch_deadline_delta, wasmtime_update_deadline_kind_t *update_kind);

/* ---- The function table ---------------------------------------------------------------- */
typedef struct cloister_wasmtime_api {
    /* configuration and engine */
    wasm_config_t *(* _Nonnull wasm_config_new)(void);
    void (* _Nonnull wasmtime_config_epoch_interruption_set)(wasm_config_t *, bool);
    void (* _Nonnull wasmtime_config_wasm_threads_set)(wasm_config_t *, bool);
    void (* _Nonnull wasmtime_config_shared_memory_set)(wasm_config_t *, bool);
    void (* _Nonnull wasmtime_config_wasm_exceptions_set)(wasm_config_t *, bool);
    void (* _Nonnull wasmtime_config_wasm_multi_memory_set)(wasm_config_t *, bool);
    void (* _Nonnull wasmtime_config_max_wasm_stack_set)(wasm_config_t *, size_t);
    void (* _Nonnull wasmtime_config_cranelift_opt_level_set)(wasm_config_t *, wasmtime_opt_level_t);
    void (* _Nonnull wasmtime_config_parallel_compilation_set)(wasm_config_t *, bool);
    void (* _Nonnull wasmtime_config_host_memory_creator_set)(wasm_config_t *, wasmtime_memory_creator_t *);
    wasm_engine_t *(* _Nonnull wasm_engine_new_with_config)(wasm_config_t *);
    void (* _Nonnull wasm_engine_delete)(wasm_engine_t *);
    void (* _Nonnull wasmtime_engine_increment_epoch)(wasm_engine_t *);
    /* modules */
    wasmtime_error_t *(* _Nonnull wasmtime_module_validate)(wasm_engine_t *, const uint8_t *, size_t);
    wasmtime_error_t *(* _Nonnull wasmtime_module_new)(wasm_engine_t *, const uint8_t *, size_t, wasmtime_module_t **);
    void (* _Nonnull wasmtime_module_delete)(wasmtime_module_t *);
    wasmtime_error_t *(* _Nonnull wasmtime_module_serialize)(wasmtime_module_t *, wasm_byte_vec_t *);
    wasmtime_error_t *(* _Nonnull wasmtime_module_deserialize)(wasm_engine_t *, const uint8_t *, size_t, wasmtime_module_t **);
    void (* _Nonnull wasm_byte_vec_delete)(wasm_byte_vec_t *);
    /* types */
    wasm_valtype_t *(* _Nonnull wasm_valtype_new)(wasm_valkind_t);
    void (* _Nonnull wasm_valtype_vec_new)(wasm_valtype_vec_t *, size_t, wasm_valtype_t *const *);
    wasm_functype_t *(* _Nonnull wasm_functype_new)(wasm_valtype_vec_t *params, wasm_valtype_vec_t *results);
    void (* _Nonnull wasm_functype_delete)(wasm_functype_t *);
    wasmtime_error_t *(* _Nonnull wasmtime_memorytype_new)(
        uint64_t min, bool max_present, uint64_t max, bool is_64, bool shared, uint8_t page_size_log2, wasm_memorytype_t **ret);
    void (* _Nonnull wasm_memorytype_delete)(wasm_memorytype_t *);
    /* linking and instantiation */
    wasmtime_linker_t *(* _Nonnull wasmtime_linker_new)(wasm_engine_t *);
    void (* _Nonnull wasmtime_linker_delete)(wasmtime_linker_t *);
    wasmtime_error_t *(* _Nonnull wasmtime_linker_define_func_unchecked)(
        wasmtime_linker_t *, const char *module, size_t module_len, const char *name, size_t name_len,
        const wasm_functype_t *type, wasmtime_func_unchecked_callback_t callback, void *env, void (* _Nullable finalizer)(void *));
    wasmtime_error_t *(* _Nonnull wasmtime_linker_define)(
        wasmtime_linker_t *, wasmtime_context_t *, const char *module, size_t module_len, const char *name, size_t name_len,
        const wasmtime_extern_t *item);
    wasmtime_error_t *(* _Nonnull wasmtime_linker_instantiate_pre)(wasmtime_linker_t *, const wasmtime_module_t *, wasmtime_instance_pre_t **);
    wasmtime_error_t *(* _Nonnull wasmtime_instance_pre_instantiate)(
        const wasmtime_instance_pre_t *, wasmtime_context_t *, wasmtime_instance_t *, wasm_trap_t **);
    void (* _Nonnull wasmtime_instance_pre_delete)(wasmtime_instance_pre_t *);
    bool (* _Nonnull wasmtime_instance_export_get)(
        wasmtime_context_t *, const wasmtime_instance_t *, const char *name, size_t name_len, wasmtime_extern_t *item);
    /* stores */
    wasmtime_store_t *(* _Nonnull wasmtime_store_new)(wasm_engine_t *, void *data, void (* _Nullable finalizer)(void *));
    wasmtime_context_t *(* _Nonnull wasmtime_store_context)(wasmtime_store_t *);
    void (* _Nonnull wasmtime_store_delete)(wasmtime_store_t *);
    void (* _Nonnull wasmtime_store_limiter)(
        wasmtime_store_t *, int64_t memory_size, int64_t table_elements, int64_t instances, int64_t tables, int64_t memories);
    void *(* _Nonnull wasmtime_context_get_data)(const wasmtime_context_t *);
    void (* _Nonnull wasmtime_context_set_epoch_deadline)(wasmtime_context_t *, uint64_t ticks_beyond_current);
    void (* _Nonnull wasmtime_store_epoch_deadline_callback)(
        wasmtime_store_t *, cloister_wasmtime_epoch_callback_t, void *data, void (* _Nullable finalizer)(void *));
    wasmtime_context_t *(* _Nonnull wasmtime_caller_context)(wasmtime_caller_t *);
    /* calls */
    wasmtime_error_t *(* _Nonnull wasmtime_func_call_unchecked)(
        wasmtime_context_t *, const wasmtime_func_t *, wasmtime_val_raw_t *args_and_results, size_t args_and_results_len,
        wasm_trap_t **trap);
    /* memories */
    uint8_t *(* _Nonnull wasmtime_memory_data)(const wasmtime_context_t *, const wasmtime_memory_t *);
    size_t (* _Nonnull wasmtime_memory_data_size)(const wasmtime_context_t *, const wasmtime_memory_t *);
    wasmtime_error_t *(* _Nonnull wasmtime_memory_grow)(wasmtime_context_t *, const wasmtime_memory_t *, uint64_t delta, uint64_t *prev_size);
    wasmtime_error_t *(* _Nonnull wasmtime_sharedmemory_new)(const wasm_engine_t *, const wasm_memorytype_t *, wasmtime_sharedmemory_t **);
    void (* _Nonnull wasmtime_sharedmemory_delete)(wasmtime_sharedmemory_t *);
    uint8_t *(* _Nonnull wasmtime_sharedmemory_data)(const wasmtime_sharedmemory_t *);
    size_t (* _Nonnull wasmtime_sharedmemory_data_size)(const wasmtime_sharedmemory_t *);
    /* errors and traps */
    wasmtime_error_t *(* _Nonnull wasmtime_error_new)(const char *message);
    void (* _Nonnull wasmtime_error_message)(const wasmtime_error_t *, wasm_byte_vec_t *message);
    void (* _Nonnull wasmtime_error_delete)(wasmtime_error_t *);
    wasm_trap_t *(* _Nonnull wasmtime_trap_new)(const char *message, size_t length);
    bool (* _Nonnull wasmtime_trap_code)(const wasm_trap_t *, wasmtime_trap_code_t *code);
    void (* _Nonnull wasm_trap_message)(const wasm_trap_t *, wasm_byte_vec_t *message);
    void (* _Nonnull wasm_trap_delete)(wasm_trap_t *);
} cloister_wasmtime_api;

/// Opens the library at `path` and resolves every member of the API. Returns the API (which
/// lives as long as the process), or NULL with a one-line reason in `error` (the library is
/// closed again): the file cannot be opened, a symbol is missing, or the version marker is not
/// that of CLOISTER_WASMTIME_VERSION. Call it once.
const cloister_wasmtime_api *cloister_wasmtime_load(const char *path, char *error, size_t error_size);

/* Layout facts for the ABI test (the Swift side cannot take offsetof of anonymous members). */
size_t cloister_wasmtime_extern_of_offset(void);
size_t cloister_wasmtime_memory_request_kind_offset(void);

#if defined(__clang__)
#pragma clang diagnostic pop
#endif

#endif
