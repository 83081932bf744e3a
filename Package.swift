// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Cloister",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cloister", targets: ["cloister"]),
        .library(name: "LibOS", targets: ["LibOS"]),
        // libcloister_pal: the C API of cloister_pal_api.h, for embedding Cloister in any process.
        .library(name: "cloister_pal", type: .dynamic, targets: ["PAL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // The one definition of every type and constant that crosses the guest ↔ LibOS boundary.
        .target(name: "CCloisterABI"),
        // Host-OS primitives Swift cannot call directly (openat2).
        .target(name: "CLibOSHost"),
        // The library OS: kernel (processes, VFS, syscalls), config, logging, entry API.
        .target(
            name: "LibOS",
            dependencies: [
                "CCloisterABI",
                "CLibOSHost",
                "ProtectedFiles",
                .product(name: "WasmKit", package: "WasmKit"),
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
        // The `cloister` command-line tool.
        .executableTarget(
            name: "cloister",
            dependencies: [
                "LibOS",
                "ProtectedFiles",
                "Executors",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
                "ProtectedFiles",
                "LibOS",
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
            name: "ProtectedFilesTests",
            dependencies: ["CloisterTestSupport", "ProtectedFiles", .product(name: "Crypto", package: "swift-crypto")]
        ),
    ]
)
