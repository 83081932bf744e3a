import CloisterTestSupport
import Foundation
import Testing

/// The library's surface: exactly the six functions of the header, and a header that compiles
/// on its own as C and as C++.
@Suite struct LibraryExportsTests {
    static let functions = [
        "cloister_pal_create_process", "cloister_pal_destroy", "cloister_pal_exec",
        "cloister_pal_get_version", "cloister_pal_init", "cloister_pal_kill",
    ]

    #if os(Linux)
    @Test func exportsExactlyTheHeadersFunctions() throws {
        let nm = try HostCommand.run(try HostCommand.tool("nm"), ["-D", "--defined-only", try PALPaths.library().path])
        #expect(nm.status == 0, "\(nm.stderr)")
        let symbols = nm.stdout.split(separator: "\n").map { line in
            let columns = line.split(separator: " ")
            return "\(columns.dropFirst().first ?? "?") \(columns.last ?? "")"
        }
        #expect(symbols.sorted() == Self.functions.map { "T \($0)" })
    }
    #endif

    @Test(arguments: [("cc", "c"), ("c++", "c++")])
    func headerCompilesAlone(compiler: String, language: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-pal-header-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("use.h.c")
        try Data("""
            #include "cloister_pal_api.h"
            int use(void);
            int use(void) {
                struct cloister_pal_attr attr = CLOISTER_PAL_ATTR_INITVAL;
                struct cloister_spawn_file_action action = { CLOISTER_SPAWN_FILE_ACTION_CLOSE, 3, 0, 0, 0, 0 };
                return (attr.log_level == 0) + (int)action.kind + CLOISTER_PAL_VERSION;
            }
            """.utf8).write(to: source)
        let run = try HostCommand.run(try HostCommand.tool(compiler), [
            "-x", language, "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-I", PALPaths.headers.path, source.path,
        ])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
    }
}
