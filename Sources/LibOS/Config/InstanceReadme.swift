import Foundation

extension InstanceConfig {
    /// The `README.md` that `cloister new` writes into a new instance folder: the folder's
    /// layout and every key of `Cloister.json` (meaning, type, default).
    public static let readme: String = #"""
        # Cloister instance

        This folder is a Cloister instance: a sandbox in which WebAssembly (WASI) programs run
        on the Cloister library OS. Its layout:

        | Path            | What it is                                                            |
        |-----------------|-----------------------------------------------------------------------|
        | `Cloister.json` | The instance configuration (below). Read each time the instance starts. |
        | `image/bin/`    | The programs (`.wasm` files). Mounted at `/bin` (hostfs).            |
        | `data/`         | Files shared with the host. Mounted at `/data`.                       |
        | `README.md`     | This file.                                                            |

        A program is started by its guest path, for example `/bin/hello.wasm` for
        `image/bin/hello.wasm`. Only programs beneath an entry point (`entry_points`) may be started.
        Guests see only what the configuration grants them: the mounts, the environment and the limits.

        ## Cloister.json

        Every key shown here is required (except a mount's `source` and `options`, which depend on
        its type); nothing is filled in silently. Unknown keys, wrong types and invalid values are
        errors reported as `Cloister.json:LINE:COLUMN: KEY.PATH: message`.

        Sizes are strings: digits followed directly by a unit, such as `"256MB"`, `"512KB"` or `"1GB"`.
        Units are 1024-based and case-insensitive: `B`, `KB` (= `KiB` = `K` = 1024 bytes), `MB`,
        `GB`, `TB`. Plain digits are bytes. No spaces, signs or fractions; sizes must be above zero.

        The default configuration:

        ```json
        {DEFAULT_JSON}
        ```

        ### `resource_limits` (object)

        Limits for the whole instance.

        | Key                    | Type               | Default   | Meaning |
        |------------------------|--------------------|-----------|---------|
        | `user_space_size`      | size               | `"256MB"` | Host memory the guests may hold together: every process's linear memory, what `ramfs` mounts hold (data and metadata), the plaintext of open `sefs` files. |
        | `max_num_of_processes` | integer > 0        | `16`      | How many processes may exist at once. |
        | `max_num_of_threads`   | integer > 0        | `32`      | How many threads, over all processes, may exist at once. |

        ### `process` (object)

        Defaults for each process.

        | Key                  | Type | Default  | Meaning |
        |----------------------|------|----------|---------|
        | `default_stack_size` | size | `"1MB"`  | The interpreter stack of each guest thread. |
        | `default_heap_size`  | size | `"64MB"` | The most linear memory one process may grow to. At most `user_space_size`, and at most `4GB` (the wasm32 address space). |
        | `cpu_time_limit`     | duration or `null` | `"10m"` | CPU time one process may use over all its threads; over it the process is killed as by SIGXCPU (exit 152 from `cloister run`). `null`: no limit. |
        | `wall_time_limit`    | duration or `null` | `"1h"`  | Wall-clock time one process may run; over it the process is killed (SIGKILL). `null`: no limit. `cloister run --timeout` lowers it for one run. |
        | `interrupt_period`   | duration | `"10ms"` | How often the interrupt agent checks the limits above and forces threads with pending events into the kernel. |

        Durations are strings: a number and one of `ns`, `us`, `ms`, `s`, `m`, `h` (`"1.5s"`, `"250ms"`).
        The three keys above are optional; without them there is no CPU or wall-clock limit and the period is 10 ms.

        ### `entry_points` (array of strings)

        Default: `["/bin"]`. Absolute guest path prefixes whose programs may be started. A prefix
        matches whole path components: `/bin` allows `/bin/sh` and `/bin/tools/x`, not `/binaries/x`.
        At least one is required; paths must be normalized (no `.` or `..` components, no repeated
        or trailing `/`).

        ### `env` (object)

        The environment of guest processes.

        | Key         | Type             | Default                      | Meaning |
        |-------------|------------------|------------------------------|---------|
        | `default`   | array of strings | `["HOME=/root", "PATH=/bin"]` | Variables every process starts with, each `"NAME=value"`. |
        | `untrusted` | array of strings | `["TERM", "LANG"]`           | Names that the caller starting a program may set or override. |

        A name is ASCII letters, digits and `_`, not starting with a digit; a value is any text
        (it may contain `=`). Names may not repeat within a list. When a program starts, its
        environment is `default`, then each variable the caller passes whose name is listed in
        `untrusted` is set (overriding a default of the same name). Every other variable the caller
        passes is dropped, so a default can only be overridden if its name is also in `untrusted`.

        ### `mount` (array of objects)

        The file systems guests see. Each entry:

        | Key       | Type   | Required                 | Meaning |
        |-----------|--------|--------------------------|---------|
        | `target`  | string | yes                      | The absolute, normalized guest path where it appears. Targets may not repeat. |
        | `type`    | string | yes                      | One of `ramfs`, `hostfs`, `devfs`, `sefs`. |
        | `source`  | string | for `hostfs` and `sefs`  | A host path: absolute, or relative to this instance folder. Not allowed for `ramfs` and `devfs`. |
        | `options` | object | no                       | String options for the type (below). |

        Types:

        - `ramfs`: an in-memory file system; empty at start, discarded when the instance ends.
        - `hostfs`: a host directory (`source`); every guest path is resolved beneath it. Only
          regular files and folders open (a FIFO, socket or device node is `EACCES`). Option
          `read_only`: `"true"` refuses every change, through a path or a descriptor (`EROFS`).
        - `devfs`: device files such as `/dev/null`, `/dev/zero`, `/dev/urandom`.
        - `sefs`: an encrypted file system kept in a host directory (`source`); each file is
          sealed for its path, so a file moved or copied to another name on the host reads as
          `EIO`. Option `key_file`: a host file holding the key (absolute, or relative to this
          instance folder).

        The root `/` must be mounted. The default mounts:

        | `target` | `type`   | `source`      |
        |----------|----------|---------------|
        | `/`      | `ramfs`  |               |
        | `/bin`   | `hostfs` | `./image/bin` |
        | `/data`  | `hostfs` | `./data`      |
        | `/tmp`   | `ramfs`  |               |
        | `/dev`   | `devfs`  |               |

        ### `metadata` (object)

        | Key          | Type    | Default | Meaning |
        |--------------|---------|---------|---------|
        | `debuggable` | boolean | `true`  | Whether the instance may log and be inspected. A release instance (`false`) logs nothing, whatever `CLOISTER_LOG_LEVEL` says. |

        ### `engine` (string, optional)

        The instruction engine guests run on: `"wasmtime"` (Cranelift JIT, compiled once and
        cached; the default) or `"wasmkit"` (a pure-Swift interpreter, the reference). Both run
        the same kernel. `cloister run --engine` and `CLOISTER_ENGINE` override it. When
        wasmtime's library is missing (`make` fetches it) or is not the release Cloister expects,
        one line on standard error says so and guests run on WasmKit.

        ### `network` (object, optional)

        What guests may reach on the host's network. Absent, nothing: every AF_INET/AF_INET6
        bind, listen, connect, datagram sent to an address and name lookup is refused (`EACCES`,
        logged). AF_UNIX sockets stay inside the instance and need no rule.

        | Key       | Type  | Meaning |
        |-----------|-------|---------|
        | `listen`  | array | `{"address": "127.0.0.1", "port": 8080}`: may bind there; port 0 is every port. The address is matched exactly (`0.0.0.0` must be listed itself). |
        | `connect` | array | `{"host": "10.0.0.0/8", "port": 5432}`: may connect or send there; `host` is a network, an address or a DNS name (the only names a guest may look up); port 0 is every port. Loopback and private addresses are reached only through a rule whose network lies inside such a range. |

        """#.replacingOccurrences(
            of: "{DEFAULT_JSON}",
            with: defaultJSON.trimmingCharacters(in: .newlines))
}
