// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Cloister",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cloister", targets: ["cloister"]),
        .library(name: "CloisterClient", targets: ["CloisterClient"]),
        .library(name: "LibOS", targets: ["LibOS"]),
        // libcloister_pal: the C API of cloister_pal_api.h, for embedding Cloister in any process.
        .library(name: "cloister_pal", type: .dynamic, targets: ["PAL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // The one definition of every type and constant that crosses the guest ↔ LibOS boundary.
        .target(name: "CCloisterABI"),
        // Host-OS primitives Swift cannot call directly (openat2).
        .target(name: "CLibOSHost"),
        // Cloister's declarations of the wasmtime C API subset the LibOS uses, and a loader that
        // resolves them with dlopen at run time (nothing links against wasmtime).
        .target(name: "CWasmtime", linkerSettings: [.linkedLibrary("dl")]),
        // The library OS: kernel (processes, VFS, syscalls), config, logging, entry API.
        .target(
            name: "LibOS",
            dependencies: [
                "CCloisterABI",
                "CLibOSHost",
                "CWasmtime",
                "ProtectedFiles",
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Protected files: the aes-gcm and cloister-file schemes, streams, file-to-file tools.
        .target(
            name: "ProtectedFiles",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Executors: the FunctionExecutor protocol, the builtin functions, and the WebAssembly and
        // Python executors that run functions as LibOS processes.
        .target(
            name: "Executors",
            dependencies: [
                "LibOS",
                "ProtectedFiles",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The platform's wire types: every request and response body of the HTTP API, shared by
        // the server and its clients.
        .target(name: "CloisterAPI"),
        // The platform: storage (SQL, migrations), accounts, functions, data, tasks and their state
        // machine, the audit log, the task queue and the workers that run tasks through executors.
        .target(
            name: "Platform",
            dependencies: [
                "CloisterAPI",
                "Executors",
                "LibOS",
                "ProtectedFiles",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP API (`/v1`) over the platform: routes, authentication, one error shape, OpenAPI,
        // and the approval page at `/`.
        .target(
            name: "APIServer",
            dependencies: [
                "CloisterAPI",
                "Platform",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The approval page (Web/) is compiled into the binary: nothing to build or install.
            resources: [
                .copy("openapi.json"), .embedInCode("Web/index.html"), .embedInCode("Web/app.js"), .embedInCode("Web/app.css"),
            ]
        ),
        // The Swift client of the HTTP API (async/await), which the `cloister` subcommands use.
        .target(
            name: "CloisterClient",
            dependencies: [
                "CloisterAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The Teaclave example scenarios, run through the HTTP API by `cloister demo` and the tests.
        .target(
            name: "Scenarios",
            dependencies: ["CloisterAPI", "CloisterClient", "ProtectedFiles"]
        ),
        // The `cloister` command-line tool.
        .executableTarget(
            name: "cloister",
            dependencies: [
                "LibOS",
                "ProtectedFiles",
                "Executors",
                "APIServer",
                "CloisterAPI",
                "CloisterClient",
                "Platform",
                "Scenarios",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // The Swift runtime and Foundation linked in, on Linux: `cloister run` is a whole
            // process per guest, and resolving the symbols of twenty shared libraries was a
            // quarter of its start (docs/PERFORMANCE.md, "Engines"). Only this executable's link
            // changes; the modules compile as they do for the tests, so one build serves both.
            // (lld, the toolchain's own linker, because it resolves symbols across the static archives
            // in any order; the three `_Foundation…` archives are named because the modules' link entries leave them out.)
            linkerSettings: [
                .unsafeFlags(["-static-stdlib", "-use-ld=lld"], .when(platforms: [.linux])),
                .linkedLibrary("_FoundationICU", .when(platforms: [.linux])),
                .linkedLibrary("_FoundationCollections", .when(platforms: [.linux])),
                .linkedLibrary("_FoundationCShims", .when(platforms: [.linux])),
                .linkedLibrary("CoreFoundation", .when(platforms: [.linux])),
            ]
        ),
        // `cloister-bench`: the LibOS against WasmKit's stock WASI bridge, in one binary.
        .executableTarget(
            name: "cloister-bench",
            dependencies: [
                "Executors",
                "LibOS",
                "ProtectedFiles",
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WasmKitWASI", package: "WasmKit"),
            ],
            path: "Benchmarks/cloister-bench"
        ),
        // The PAL: the C entry points of libcloister_pal over the entry API. The library exports
        // exactly the functions of cloister_pal_api.h (a version script on Linux, an exported
        // symbols list on Darwin); `nm -D --defined-only` lists nothing else.
        .target(
            name: "PAL",
            dependencies: ["CCloisterABI", "LibOS"],
            exclude: ["exports.map", "exports.txt"],
            linkerSettings: [
                .unsafeFlags(
                    // lld, because gold keeps the hidden Swift metadata symbols in .dynsym.
                    ["-use-ld=lld", "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/PAL/exports.map"],
                    .when(platforms: [.linux])),
                .unsafeFlags(
                    ["-Xlinker", "-exported_symbols_list", "-Xlinker", "\(Context.packageDirectory)/Sources/PAL/exports.txt"],
                    .when(platforms: [.macOS])),
            ]
        ),
        // What the test targets share: instance folders, the C test guests, host tools.
        .target(
            name: "CloisterTestSupport",
            dependencies: [.product(name: "WAT", package: "WasmKit")],
            path: "Tests/CloisterTestSupport"
        ),
        // A small C library the "Adding Executors" guide calls from Swift (docs/adding-executors.md).
        .target(name: "CWordCount", path: "Tests/CWordCount"),
        // Builds the C sample and test programs against libcloister_pal and runs guests through them.
        .testTarget(
            name: "PALTests",
            dependencies: [
                "CloisterTestSupport",
                "CCloisterABI",
                "LibOS",
                .product(name: "WAT", package: "WasmKit"),
            ],
            exclude: ["Programs"]
        ),
        .testTarget(
            name: "LibOSTests",
            dependencies: [
                "CloisterTestSupport",
                "CWasmtime",
                "ProtectedFiles",
                "LibOS",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WAT", package: "WasmKit"),
            ]
        ),
        .testTarget(
            name: "ExecutorsTests",
            dependencies: [
                "CloisterTestSupport",
                "CWordCount",
                "Executors",
                "ProtectedFiles",
                "LibOS",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "WAT", package: "WasmKit"),
            ]
        ),
        .testTarget(
            name: "PlatformTests",
            dependencies: [
                "APIServer",
                "CloisterAPI",
                "CloisterClient",
                "CloisterTestSupport",
                "Platform",
                "ProtectedFiles",
                "Scenarios",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "WAT", package: "WasmKit"),
            ]
        ),
        .testTarget(
            name: "ProtectedFilesTests",
            dependencies: ["CloisterTestSupport", "ProtectedFiles", .product(name: "Crypto", package: "swift-crypto")]
        ),
    ]
)
