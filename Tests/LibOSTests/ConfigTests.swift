import CloisterTestSupport
import Foundation
import Testing

@testable import LibOS

// MARK: - Helpers

/// The error `InstanceConfig.parse` throws for `json`, or `nil` (recording an issue) if it parses.
private func parseError(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
    let result = Result { () throws(ConfigError) -> InstanceConfig in
        try InstanceConfig.parse(json, file: "Cloister.json")
    }
    switch result {
    case .success:
        Issue.record("expected a ConfigError, but the configuration parsed", sourceLocation: sourceLocation)
        return nil
    case .failure(let error):
        return error
    }
}

/// Expects `json` to fail with exactly this key path and position, and a message containing `fragment`.
private func expectError(
    _ json: String, keyPath: String, line: Int, column: Int, _ fragment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let error = parseError(json, sourceLocation: sourceLocation) else { return }
    #expect(error.file == "Cloister.json", sourceLocation: sourceLocation)
    #expect(error.keyPath == keyPath, "\(error)", sourceLocation: sourceLocation)
    #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
    #expect(error.column == column, "\(error)", sourceLocation: sourceLocation)
    #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
}

/// The default configuration with `old` (which must occur exactly once) replaced by `new`.
private func defaultReplacing(
    _ old: String, with new: String, sourceLocation: SourceLocation = #_sourceLocation
) -> String {
    let json = InstanceConfig.defaultJSON
    let occurrences = json.components(separatedBy: old).count - 1
    if occurrences != 1 {
        Issue.record("\(old) occurs \(occurrences) times in the default JSON", sourceLocation: sourceLocation)
    }
    return json.replacingOccurrences(of: old, with: new)
}

/// Parses `json` with the JSON parser alone.
private func parseJSON(_ json: String) throws(ConfigError) -> ConfigJSONValue {
    try ConfigJSONParser.parse(Array(json.utf8), file: "t.json")
}

// The default JSON, line by line, for the positions used below:
//  2 "resource_limits" {   3 user_space_size   4 max_num_of_processes   5 max_num_of_threads
//  7 "process" {           8 default_stack_size  9 default_heap_size
// 11 "entry_points" [     12 "/bin"
// 14 "env" {              15 "default" [  16 "HOME=/root"  17 "PATH=/bin"  19 "untrusted" [  20 "TERM"  21 "LANG"
// 24 "mount" [  25 { 26 "/" ramfs }  29 { 30 "/bin" hostfs 32 source }  34 { 35 "/data" hostfs 37 source }
//               39 { 40 "/tmp" 41 ramfs }  43 { 44 "/dev" 45 devfs }
// 48 "metadata" {         49 debuggable

@Suite("Cloister.json configuration")
struct ConfigTests {
    // MARK: Default

    @Test func defaultConfigurationParses() throws {
        let config = try InstanceConfig.parse(InstanceConfig.defaultJSON, file: "Cloister.json")
        #expect(config == InstanceConfig.default)
        #expect(config.resourceLimits == ResourceLimits(userSpaceSize: 256 << 20, maxNumOfProcesses: 16, maxNumOfThreads: 32))
        #expect(config.process == ProcessDefaults(
            defaultStackSize: 1 << 20, defaultHeapSize: 64 << 20, cpuTimeLimit: 600_000_000_000, wallTimeLimit: 3_600_000_000_000,
            interruptPeriod: 10_000_000))
        #expect(config.entryPoints == ["/bin"])
        #expect(
            config.environment
                == EnvironmentConfig(
                    defaults: [
                        EnvironmentVariable(name: "HOME", value: "/root"), EnvironmentVariable(name: "PATH", value: "/bin"),
                    ],
                    untrusted: ["TERM", "LANG"]))
        #expect(
            config.mounts == [
                MountConfig(target: "/", type: .ramfs),
                MountConfig(target: "/bin", type: .hostfs, source: "./image/bin"),
                MountConfig(target: "/data", type: .hostfs, source: "./data"),
                MountConfig(target: "/tmp", type: .ramfs),
                MountConfig(target: "/dev", type: .devfs),
            ])
        #expect(config.debuggable)
        #expect(config.mount(at: "/data")?.type == .hostfs)
        #expect(config.mount(at: "/nope") == nil)
    }

    @Test func defaultJSONIsPrettyWithTwoSpaceIndent() {
        let lines = InstanceConfig.defaultJSON.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "{")
        #expect(lines[1] == "  \"resource_limits\": {")
        #expect(lines[2] == "    \"user_space_size\": \"256MB\",")
        #expect(InstanceConfig.defaultJSON.hasSuffix("}\n"))
        #expect(!InstanceConfig.defaultJSON.contains("\t"))
    }

    @Test func parsesDataBytesAndStringAlike() throws {
        let text = InstanceConfig.defaultJSON
        let fromData = try InstanceConfig.parse(Data(text.utf8), file: "a")
        let fromBytes = try InstanceConfig.parse(Array(text.utf8), file: "a")
        #expect(fromData == fromBytes)
        #expect(fromData == InstanceConfig.default)
        // A UTF-8 byte order mark is skipped.
        let withBOM = try InstanceConfig.parse([0xEF, 0xBB, 0xBF] + Array(text.utf8), file: "a")
        #expect(withBOM == fromData)
    }

    @Test func readmeDocumentsEveryKeyAndTheLayout() {
        let readme = InstanceConfig.readme
        let keys =
            InstanceConfig.keys + ResourceLimits.keys + ProcessDefaults.keys + EnvironmentConfig.keys
            + MountConfig.requiredKeys + MountConfig.optionalKeys + NetworkConfig.keys + ["debuggable", "key_file", "network"]
        for key in keys {
            #expect(readme.contains("`\(key)`"), "README does not document \(key)")
        }
        for type in MountType.allCases {
            #expect(readme.contains("`\(type.rawValue)`"))
        }
        #expect(readme.contains("image/bin"))
        #expect(readme.contains("`data/`"))
        #expect(readme.contains("`/data`"))
        #expect(readme.contains(InstanceConfig.defaultJSON.trimmingCharacters(in: .newlines)))
    }

    // MARK: ConfigError

    @Test func errorDescription() {
        let error = ConfigError(file: "a.json", line: 3, column: 5, keyPath: "mount[2].type", message: "bad")
        #expect(error.description == "a.json:3:5: mount[2].type: bad")
        let noPath = ConfigError(file: "a.json", line: 3, column: 5, keyPath: "", message: "bad")
        #expect(noPath.description == "a.json:3:5: bad")
        let noPosition = ConfigError(file: "/x/Cloister.json", line: 0, column: 0, keyPath: "", message: "no such file")
        #expect(noPosition.description == "/x/Cloister.json: no such file")
    }

    // MARK: JSON syntax

    @Test func malformedJSONIsRejectedAtTheExactPosition() {
        expectError("", keyPath: "", line: 1, column: 1, "unexpected end of input; expected a value")
        expectError("  \n ", keyPath: "", line: 2, column: 2, "unexpected end of input")
        expectError("{", keyPath: "", line: 1, column: 2, "expected a string key, got end of input")
        expectError("[", keyPath: "", line: 1, column: 2, "unexpected end of input; expected a value")
        expectError(#"{"a": 1,}"#, keyPath: "", line: 1, column: 8, "trailing comma before '}'")
        expectError(#"[1, 2,]"#, keyPath: "", line: 1, column: 6, "trailing comma before ']'")
        expectError(#"{"a": 1 "b": 2}"#, keyPath: "", line: 1, column: 9, "expected ',' or '}'")
        expectError("{\n  \"a\": 1\n  \"b\": 2\n}", keyPath: "", line: 3, column: 3, "expected ',' or '}'")
        expectError(#"[1 2]"#, keyPath: "", line: 1, column: 4, "expected ',' or ']'")
        expectError(#"{"a" 1}"#, keyPath: "", line: 1, column: 6, "expected ':' after key \"a\"")
        expectError(#"{"a":}"#, keyPath: "", line: 1, column: 6, "expected a value")
        expectError(#"{a: 1}"#, keyPath: "", line: 1, column: 2, "keys must be in double quotes")
        expectError(#"{'a': 1}"#, keyPath: "", line: 1, column: 2, "expected a string key")
        expectError(#"{"a": 'x'}"#, keyPath: "", line: 1, column: 7, "strings must be in double quotes")
        expectError("{\"a\": // note\n 1}", keyPath: "", line: 1, column: 7, "comments are not allowed")
        expectError(#"{} x"#, keyPath: "", line: 1, column: 4, "after the end of the JSON value")
        expectError(#"{}{}"#, keyPath: "", line: 1, column: 3, "after the end of the JSON value")
    }

    @Test func malformedStringsAreRejected() {
        expectError(#"{"a": "abc"#, keyPath: "", line: 1, column: 7, "unterminated string")
        expectError("{\"a\": \"abc\n\"}", keyPath: "", line: 1, column: 7, "unterminated string")
        expectError("{\"a\": \"a\tb\"}", keyPath: "", line: 1, column: 9, "unescaped control character U+0009")
        expectError(#"{"a": "\q"}"#, keyPath: "", line: 1, column: 8, "invalid escape '\\q'")
        expectError(#""\u12G4""#, keyPath: "", line: 1, column: 2, "expected 4 hex digits")
        expectError(#""\u12""#, keyPath: "", line: 1, column: 2, "expected 4 hex digits")
        expectError(#""\uD83D""#, keyPath: "", line: 1, column: 2, "unpaired surrogate \\uD83D")
        expectError(#""\uD83Dx""#, keyPath: "", line: 1, column: 2, "unpaired surrogate")
        expectError(#""\uD83D\u0041""#, keyPath: "", line: 1, column: 2, "not a low surrogate")
        expectError(#""\uDE00""#, keyPath: "", line: 1, column: 2, "unpaired surrogate \\uDE00")
    }

    @Test func malformedLiteralsAndNumbersAreRejected() {
        expectError(#"{"a": tru}"#, keyPath: "", line: 1, column: 7, "invalid literal")
        expectError(#"{"a": nulls}"#, keyPath: "", line: 1, column: 7, "invalid literal")
        expectError(#"{"a": 01}"#, keyPath: "", line: 1, column: 8, "leading zeros")
        expectError(#"{"a": 1.}"#, keyPath: "", line: 1, column: 9, "expected a digit after '.'")
        expectError(#"{"a": 1e}"#, keyPath: "", line: 1, column: 9, "expected a digit in the exponent")
        expectError(#"{"a": -}"#, keyPath: "", line: 1, column: 8, "invalid number")
        expectError(#"{"a": +1}"#, keyPath: "", line: 1, column: 7, "unexpected '+'; expected a value")
        expectError(#"{"a": .5}"#, keyPath: "", line: 1, column: 7, "expected a value")
    }

    @Test func invalidUTF8IsRejected() {
        let result = Result { () throws(ConfigError) -> InstanceConfig in
            try InstanceConfig.parse([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D], file: "b.json")
        }
        guard case .failure(let error) = result else {
            Issue.record("invalid UTF-8 was accepted")
            return
        }
        #expect(error.line == 1 && error.column == 7, "\(error)")
        #expect(error.message.contains("invalid UTF-8"))
        // An overlong encoding of '/' and an encoded surrogate are invalid too.
        #expect(throws: ConfigError.self) { try InstanceConfig.parse([0x22, 0xC0, 0xAF, 0x22], file: "b.json") }
        #expect(throws: ConfigError.self) { try InstanceConfig.parse([0x22, 0xED, 0xA0, 0x80, 0x22], file: "b.json") }
    }

    @Test func deepNestingIsRejected() {
        let json = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        expectError(json, keyPath: "", line: 1, column: ConfigJSONParser.maxDepth + 1, "nesting too deep")
    }

    @Test func duplicateKeysAreRejected() {
        expectError("{\n  \"a\": 1,\n  \"a\": 2\n}", keyPath: "a", line: 3, column: 3, "duplicate key \"a\" (first at line 2, column 3)")
        let json = defaultReplacing(
            "\"max_num_of_threads\": 32", with: "\"max_num_of_threads\": 32,\n    \"max_num_of_threads\": 33")
        expectError(json, keyPath: "resource_limits.max_num_of_threads", line: 6, column: 5, "duplicate key")
    }

    @Test func fullJSONGrammarIsSupported() throws {
        let value = try parseJSON(#"""
            {"s": "\"\\\/\b\f\n\r\t\u0041\u00e9\uD83D\uDE00 ok", "n": [-0, 1.5e-3, 0.5, 1E+2, 10],
             "t": true, "f": false, "z": null, "o": {"nested": [[], {}]}, "u": "é😀"}
            """#)
        guard case .object(let members) = value.content else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["s", "n", "t", "f", "z", "o", "u"])
        #expect(members[0].value.content == .string("\"\\/\u{08}\u{0C}\n\r\tAé😀 ok"))
        #expect(
            members[1].value.content
                == .array([
                    ConfigJSONValue(content: .number("-0"), line: 1, column: 60),
                    ConfigJSONValue(content: .number("1.5e-3"), line: 1, column: 64),
                    ConfigJSONValue(content: .number("0.5"), line: 1, column: 72),
                    ConfigJSONValue(content: .number("1E+2"), line: 1, column: 77),
                    ConfigJSONValue(content: .number("10"), line: 1, column: 83),
                ]))
        #expect(members[2].value.content == .bool(true))
        #expect(members[3].value.content == .bool(false))
        #expect(members[4].value.content == .null)
        #expect(members[2].line == 2 && members[2].column == 2)
        #expect(members[6].value.content == .string("é😀"))
    }

    @Test func columnsCountUnicodeScalars() throws {
        let value = try parseJSON("{\"é\": \"ü😀\", \"k\": 1}")
        guard case .object(let members) = value.content else {
            Issue.record("not an object")
            return
        }
        #expect(members[1].key == "k")
        #expect(members[1].line == 1 && members[1].column == 13)
        #expect(members[1].value.column == 18)
        expectError("{\"é\": \"ü😀\", \"k\": x}", keyPath: "", line: 1, column: 18, "expected a value")
    }

    // MARK: Unknown and missing keys

    @Test func unknownKeysAreRejected() {
        expectError(
            defaultReplacing("\"metadata\": {", with: "\"sockets\": {},\n  \"metadata\": {"),
            keyPath: "sockets", line: 48, column: 3,
            "unknown key \"sockets\"; expected one of: resource_limits, process, entry_points, env, mount, metadata, engine, network")
        expectError(
            defaultReplacing("\"max_num_of_threads\": 32", with: "\"max_num_of_threads\": 32,\n    \"foo\": 1"),
            keyPath: "resource_limits.foo", line: 6, column: 5,
            "unknown key \"foo\"; expected one of: user_space_size, max_num_of_processes, max_num_of_threads")
        expectError(
            defaultReplacing("\"type\": \"devfs\"", with: "\"type\": \"devfs\",\n      \"readonly\": true"),
            keyPath: "mount[4].readonly", line: 46, column: 7,
            "unknown key \"readonly\"; expected one of: target, type, source, options")
        expectError(
            defaultReplacing("\"debuggable\": true", with: "\"debuggable\": true, \"verbose\": 1"),
            keyPath: "metadata.verbose", line: 49, column: 25, "unknown key \"verbose\"; expected one of: debuggable")
        expectError(
            defaultReplacing("\"untrusted\": [", with: "\"trusted\": [], \"untrusted\": ["),
            keyPath: "env.trusted", line: 19, column: 5, "expected one of: default, untrusted")
    }

    @Test func missingKeysAreReportedAtTheEnclosingObject() {
        expectError(
            defaultReplacing(",\n  \"metadata\": {\n    \"debuggable\": true\n  }", with: ""),
            keyPath: "metadata", line: 1, column: 1, "missing required key \"metadata\"")
        expectError(
            defaultReplacing(",\n    \"max_num_of_threads\": 32", with: ""),
            keyPath: "resource_limits.max_num_of_threads", line: 2, column: 22,
            "missing required key \"max_num_of_threads\"")
        expectError(
            defaultReplacing(",\n    \"untrusted\": [\n      \"TERM\",\n      \"LANG\"\n    ]", with: ""),
            keyPath: "env.untrusted", line: 14, column: 10, "missing required key \"untrusted\"")
        expectError(
            defaultReplacing("\"target\": \"/tmp\",\n      \"type\": \"ramfs\"", with: "\"target\": \"/tmp\""),
            keyPath: "mount[3].type", line: 39, column: 5, "missing required key \"type\"")
        expectError(
            defaultReplacing("\"debuggable\": true", with: ""),
            keyPath: "metadata.debuggable", line: 48, column: 15, "missing required key \"debuggable\"")
        expectError(
            defaultReplacing("\"default_stack_size\": \"1MB\",\n", with: ""),
            keyPath: "process.default_stack_size", line: 7, column: 14, "missing required key")
    }

    // MARK: Types

    @Test func wrongTypesAreRejected() {
        expectError("[]", keyPath: "", line: 1, column: 1, "expected an object, got an array")
        expectError(
            defaultReplacing("\"target\": \"/tmp\"", with: "\"target\": 5"),
            keyPath: "mount[3].target", line: 40, column: 17, "expected a string, got a number")
        expectError(
            defaultReplacing("\"debuggable\": true", with: "\"debuggable\": \"yes\""),
            keyPath: "metadata.debuggable", line: 49, column: 19, "expected a boolean (true or false), got a string")
        expectError(
            defaultReplacing("\"entry_points\": [\n    \"/bin\"\n  ]", with: "\"entry_points\": \"/bin\""),
            keyPath: "entry_points", line: 11, column: 19, "expected an array, got a string")
        expectError(
            defaultReplacing("\"metadata\": {\n    \"debuggable\": true\n  }", with: "\"metadata\": null"),
            keyPath: "metadata", line: 48, column: 15, "expected an object, got null")
        expectError(
            defaultReplacing("\"HOME=/root\"", with: "[\"HOME=/root\"]"),
            keyPath: "env.default[0]", line: 16, column: 7, "expected a string, got an array")
        expectError(
            defaultReplacing("{\n      \"target\": \"/dev\",\n      \"type\": \"devfs\"\n    }", with: "\"/dev\""),
            keyPath: "mount[4]", line: 43, column: 5, "expected an object, got a string")
    }

    // MARK: Counts and sizes

    @Test func countsMustBePositiveIntegers() {
        expectError(
            defaultReplacing("\"max_num_of_processes\": 16", with: "\"max_num_of_processes\": \"16\""),
            keyPath: "resource_limits.max_num_of_processes", line: 4, column: 29, "expected an integer, got a string")
        expectError(
            defaultReplacing("\"max_num_of_processes\": 16", with: "\"max_num_of_processes\": 16.5"),
            keyPath: "resource_limits.max_num_of_processes", line: 4, column: 29, "expected an integer, got 16.5")
        expectError(
            defaultReplacing("\"max_num_of_processes\": 16", with: "\"max_num_of_processes\": -3"),
            keyPath: "resource_limits.max_num_of_processes", line: 4, column: 29, "must be a positive integer, got -3")
        expectError(
            defaultReplacing("\"max_num_of_threads\": 32", with: "\"max_num_of_threads\": 0"),
            keyPath: "resource_limits.max_num_of_threads", line: 5, column: 27, "must be a positive integer, got 0")
        expectError(
            defaultReplacing("\"max_num_of_threads\": 32", with: "\"max_num_of_threads\": 99999999999999999999"),
            keyPath: "resource_limits.max_num_of_threads", line: 5, column: 27, "out of range")
    }

    @Test func badSizesAreRejected() {
        expectError(
            defaultReplacing("\"256MB\"", with: "\"32XB\""),
            keyPath: "resource_limits.user_space_size", line: 3, column: 24, "expected a size like \"32MB\", got \"32XB\"")
        expectError(
            defaultReplacing("\"256MB\"", with: "\"256 MB\""),
            keyPath: "resource_limits.user_space_size", line: 3, column: 24, "expected a size like \"32MB\"")
        expectError(
            defaultReplacing("\"256MB\"", with: "1024"),
            keyPath: "resource_limits.user_space_size", line: 3, column: 24, "sizes are strings")
        expectError(
            defaultReplacing("\"1MB\"", with: "\"0MB\""),
            keyPath: "process.default_stack_size", line: 8, column: 27, "greater than zero")
        expectError(
            defaultReplacing("\"64MB\"", with: "\"512MB\""),
            keyPath: "process.default_heap_size", line: 9, column: 26,
            "512MB exceeds resource_limits.user_space_size (256MB)")
        let huge = defaultReplacing("\"256MB\"", with: "\"64GB\"").replacingOccurrences(of: "\"64MB\"", with: "\"8GB\"")
        expectError(huge, keyPath: "process.default_heap_size", line: 9, column: 26, "exceeds 4GB")
    }

    @Test func byteSizes() {
        #expect(ByteSize.parse("32MB") == 32 << 20)
        #expect(ByteSize.parse("1GB") == 1 << 30)
        #expect(ByteSize.parse("512KB") == 512 << 10)
        #expect(ByteSize.parse("100B") == 100)
        #expect(ByteSize.parse("64MiB") == 64 << 20)
        #expect(ByteSize.parse("4096") == 4096)
        #expect(ByteSize.parse("1kb") == 1024)
        #expect(ByteSize.parse("2K") == 2048)
        #expect(ByteSize.parse("3M") == 3 << 20)
        #expect(ByteSize.parse("1TB") == 1 << 40)
        #expect(ByteSize.parse("1TiB") == 1 << 40)
        #expect(ByteSize.parse("007KB") == 7 << 10)
        #expect(ByteSize.parse("0") == 0)
        #expect(ByteSize.parse("18446744073709551615") == UInt64.max)
        #expect(ByteSize.parse("16777215TB") == 16_777_215 << 40)
        for bad in [
            "", "4 KB", " 4KB", "4KB ", "-1KB", "+1KB", "1.5GB", "32XB", "KB", "MB5", "1K B", "1,024",
            "18446744073709551616", "17179869184GB", "16777216TB", "１KB",
        ] {
            #expect(ByteSize.parse(bad) == nil, "\(bad) should be rejected")
        }
        #expect(ByteSize.format(64 << 20) == "64MB")
        #expect(ByteSize.format(1536 << 10) == "1536KB")
        #expect(ByteSize.format(100) == "100B")
        #expect(ByteSize.format(0) == "0B")
        #expect(ByteSize.format(1 << 30) == "1GB")
        for size: UInt64 in [1, 1023, 1024, 3 << 20, 5 << 40, UInt64.max] {
            #expect(ByteSize.parse(ByteSize.format(size)) == size)
        }
    }

    // MARK: Entry points

    @Test func entryPointsMustBeAbsolute() {
        expectError(
            defaultReplacing("    \"/bin\"\n", with: "    \"bin\"\n"),
            keyPath: "entry_points[0]", line: 12, column: 5, "entry point must be an absolute path")
        expectError(
            defaultReplacing("    \"/bin\"\n", with: "    \"/bin\",\n    \"/usr/../bin\"\n"),
            keyPath: "entry_points[1]", line: 13, column: 5, "normalized")
        expectError(
            defaultReplacing("    \"/bin\"\n", with: "    \"/bin\",\n    \"/bin\"\n"),
            keyPath: "entry_points[1]", line: 13, column: 5, "duplicate entry point \"/bin\"")
        expectError(
            defaultReplacing("\"entry_points\": [\n    \"/bin\"\n  ]", with: "\"entry_points\": []"),
            keyPath: "entry_points", line: 11, column: 19, "at least one")
        expectError(
            defaultReplacing("    \"/bin\"\n", with: "    1\n"),
            keyPath: "entry_points[0]", line: 12, column: 5, "expected a string, got a number")
    }

    @Test func allowsEntryPointMatchesWholeComponents() {
        let config = InstanceConfig.default
        #expect(config.allowsEntryPoint("/bin/sh"))
        #expect(config.allowsEntryPoint("/bin/tools/x.wasm"))
        #expect(config.allowsEntryPoint("/bin"))
        #expect(!config.allowsEntryPoint("/binary/sh"))
        #expect(!config.allowsEntryPoint("/etc/passwd"))
        #expect(!config.allowsEntryPoint("/bin/../etc/passwd"))
        #expect(!config.allowsEntryPoint("/bin/./sh"))
        #expect(!config.allowsEntryPoint("bin/sh"))
        var everything = config
        everything.entryPoints = ["/"]
        #expect(everything.allowsEntryPoint("/anything/at/all"))
        #expect(!everything.allowsEntryPoint("/a/../b"))
    }

    // MARK: Mounts

    @Test func mountTargetsMustBeAbsoluteAndUnique() {
        expectError(
            defaultReplacing("\"target\": \"/data\"", with: "\"target\": \"data\""),
            keyPath: "mount[2].target", line: 35, column: 17, "mount target must be an absolute path like \"/data\", got \"data\"")
        for bad in ["/data/", "/data//x", "/data/./x", "/data/../etc"] {
            expectError(
                defaultReplacing("\"target\": \"/data\"", with: "\"target\": \"\(bad)\""),
                keyPath: "mount[2].target", line: 35, column: 17, "normalized absolute path")
        }
        expectError(
            defaultReplacing("\"target\": \"/tmp\"", with: "\"target\": \"/data\""),
            keyPath: "mount[3].target", line: 40, column: 17,
            "duplicate mount target \"/data\" (already mounted by mount[2])")
        expectError(
            defaultReplacing("{\n      \"target\": \"/\",\n      \"type\": \"ramfs\"\n    },\n    ", with: ""),
            keyPath: "mount", line: 24, column: 12, "no mount for \"/\"")
    }

    @Test func mountTypesAreChecked() {
        expectError(
            defaultReplacing("\"type\": \"devfs\"", with: "\"type\": \"nfs\""),
            keyPath: "mount[4].type", line: 45, column: 15,
            "unknown mount type \"nfs\"; expected one of: ramfs, hostfs, devfs, sefs")
        expectError(
            defaultReplacing("\"type\": \"devfs\"", with: "\"type\": \"DEVFS\""),
            keyPath: "mount[4].type", line: 45, column: 15, "unknown mount type \"DEVFS\"")
    }

    @Test func sourcesMatchMountTypes() {
        expectError(
            defaultReplacing(",\n      \"source\": \"./data\"", with: ""),
            keyPath: "mount[2].source", line: 34, column: 5, "mount type \"hostfs\" requires a \"source\"")
        expectError(
            defaultReplacing("\"type\": \"hostfs\",\n      \"source\": \"./data\"", with: "\"type\": \"sefs\""),
            keyPath: "mount[2].source", line: 34, column: 5, "mount type \"sefs\" requires a \"source\"")
        expectError(
            defaultReplacing(
                "\"target\": \"/tmp\",\n      \"type\": \"ramfs\"",
                with: "\"target\": \"/tmp\",\n      \"type\": \"ramfs\",\n      \"source\": \"./tmp\""),
            keyPath: "mount[3].source", line: 42, column: 17, "mount type \"ramfs\" takes no \"source\"")
        expectError(
            defaultReplacing("\"type\": \"devfs\"", with: "\"type\": \"devfs\",\n      \"source\": \"/dev\""),
            keyPath: "mount[4].source", line: 46, column: 17, "mount type \"devfs\" takes no \"source\"")
        expectError(
            defaultReplacing("\"source\": \"./data\"", with: "\"source\": \"\""),
            keyPath: "mount[2].source", line: 37, column: 17, "source must be a host path")
        expectError(
            defaultReplacing("\"source\": \"./data\"", with: "\"source\": true"),
            keyPath: "mount[2].source", line: 37, column: 17, "expected a string, got a boolean")
    }

    @Test func mountOptions() throws {
        let sefs = defaultReplacing(
            "\"type\": \"hostfs\",\n      \"source\": \"./data\"",
            with: "\"type\": \"sefs\",\n      \"source\": \"./data\",\n      \"options\": {\"key_file\": \"./key\"}")
        let config = try InstanceConfig.parse(sefs, file: "Cloister.json")
        #expect(config.mounts[2] == MountConfig(target: "/data", type: .sefs, source: "./data", options: ["key_file": "./key"]))

        let base = "\"type\": \"hostfs\",\n      \"source\": \"./data\""
        func withOptions(_ type: String, _ options: String) -> String {
            defaultReplacing(base, with: "\"type\": \"\(type)\",\n      \"source\": \"./data\",\n      \"options\": \(options)")
        }
        expectError(
            withOptions("sefs", "{\"cache\": \"1\"}"),
            keyPath: "mount[2].options.cache", line: 38, column: 19, "unknown key \"cache\"; expected one of: key_file")
        expectError(
            withOptions("sefs", "{\"key_file\": 5}"),
            keyPath: "mount[2].options.key_file", line: 38, column: 31, "expected a string, got a number")
        expectError(
            withOptions("sefs", "[]"),
            keyPath: "mount[2].options", line: 38, column: 18, "expected an object, got an array")
        expectError(
            withOptions("hostfs", "{\"key_file\": \"k\"}"),
            keyPath: "mount[2].options.key_file", line: 38, column: 19, "unknown key \"key_file\"; expected one of: read_only")
        expectError(
            withOptions("hostfs", "{\"read_only\": \"yes\"}"),
            keyPath: "mount[2].options.read_only", line: 38, column: 32, "read_only must be \"true\" or \"false\", got \"yes\"")
        let readOnly = try InstanceConfig.parse(withOptions("hostfs", "{\"read_only\": \"true\"}"), file: "Cloister.json")
        #expect(readOnly.mounts[2].options == ["read_only": "true"])
        // An empty options object is fine for any type.
        let empty = try InstanceConfig.parse(withOptions("hostfs", "{}"), file: "Cloister.json")
        #expect(empty.mounts[2].options.isEmpty)
    }

    @Test func resolvedSource() {
        let bin = MountConfig(target: "/bin", type: .hostfs, source: "./image/bin")
        #expect(bin.resolvedSource(instanceDirectory: "/srv/inst") == "/srv/inst/image/bin")
        #expect(bin.resolvedSource(instanceDirectory: "/srv/inst/") == "/srv/inst/image/bin")
        #expect(bin.resolvedSource(instanceDirectory: "inst") == "inst/image/bin")
        let data = MountConfig(target: "/data", type: .hostfs, source: "data")
        #expect(data.resolvedSource(instanceDirectory: "/srv/inst") == "/srv/inst/data")
        let absolute = MountConfig(target: "/opt", type: .hostfs, source: "/opt/shared")
        #expect(absolute.resolvedSource(instanceDirectory: "/srv/inst") == "/opt/shared")
        let parent = MountConfig(target: "/up", type: .hostfs, source: "../shared")
        #expect(parent.resolvedSource(instanceDirectory: "/srv/inst") == "/srv/inst/../shared")
        #expect(MountConfig(target: "/tmp", type: .ramfs).resolvedSource(instanceDirectory: "/srv/inst") == nil)
        #expect(MountConfig.resolve(hostPath: "./keys/k", instanceDirectory: "/srv/inst") == "/srv/inst/keys/k")
    }

    @Test func mountTypeProperties() {
        #expect(MountType.allCases.map(\.rawValue) == ["ramfs", "hostfs", "devfs", "sefs"])
        #expect(MountType.hostfs.requiresSource && MountType.sefs.requiresSource)
        #expect(!MountType.ramfs.requiresSource && !MountType.devfs.requiresSource)
        #expect(MountType(rawValue: "nfs") == nil)
    }

    // MARK: Environment

    @Test func environmentEntriesAreValidated() {
        expectError(
            defaultReplacing("\"HOME=/root\"", with: "\"HOME\""),
            keyPath: "env.default[0]", line: 16, column: 7, "expected \"NAME=value\", got \"HOME\"")
        expectError(
            defaultReplacing("\"PATH=/bin\"", with: "\"1PATH=/bin\""),
            keyPath: "env.default[1]", line: 17, column: 7, "invalid environment variable name \"1PATH\"")
        expectError(
            defaultReplacing("\"PATH=/bin\"", with: "\"=/bin\""),
            keyPath: "env.default[1]", line: 17, column: 7, "invalid environment variable name \"\"")
        expectError(
            defaultReplacing("\"PATH=/bin\"", with: "\"HOME=/x\""),
            keyPath: "env.default[1]", line: 17, column: 7, "duplicate variable \"HOME\" (already set by env.default[0])")
        expectError(
            defaultReplacing("\"LANG\"", with: "\"LA NG\""),
            keyPath: "env.untrusted[1]", line: 21, column: 7, "invalid environment variable name \"LA NG\"")
        expectError(
            defaultReplacing("\"LANG\"", with: "\"TERM=xterm\""),
            keyPath: "env.untrusted[1]", line: 21, column: 7, "invalid environment variable name \"TERM=xterm\"")
        expectError(
            defaultReplacing("\"LANG\"", with: "\"TERM\""),
            keyPath: "env.untrusted[1]", line: 21, column: 7, "duplicate name \"TERM\"")
        expectError(
            defaultReplacing("\"LANG\"", with: "7"),
            keyPath: "env.untrusted[1]", line: 21, column: 7, "expected a string, got a number")
    }

    @Test func environmentValuesMayContainEqualsSigns() throws {
        let config = try InstanceConfig.parse(
            defaultReplacing("\"PATH=/bin\"", with: "\"OPTS=a=b=c\""), file: "Cloister.json")
        #expect(config.environment.defaults[1] == EnvironmentVariable(name: "OPTS", value: "a=b=c"))
    }

    @Test func environmentVariableParsing() {
        #expect(EnvironmentVariable(parsing: "A=1") == EnvironmentVariable(name: "A", value: "1"))
        #expect(EnvironmentVariable(parsing: "_x9=") == EnvironmentVariable(name: "_x9", value: ""))
        #expect(EnvironmentVariable(parsing: "A=b=c")?.value == "b=c")
        #expect(EnvironmentVariable(parsing: "A") == nil)
        #expect(EnvironmentVariable(parsing: "=1") == nil)
        #expect(EnvironmentVariable(parsing: "9A=1") == nil)
        #expect(EnvironmentVariable(parsing: "A-B=1") == nil)
        #expect(EnvironmentVariable(parsing: "É=1") == nil)
        #expect(EnvironmentVariable(parsing: "A=\0") == nil)
        #expect(EnvironmentVariable(name: "A", value: "b").description == "A=b")
    }

    @Test func defaultsAreAlwaysSet() {
        let env = InstanceConfig.default.environment
        #expect(env.merged(with: []) == ["HOME=/root", "PATH=/bin"])
    }

    @Test func untrustedNamesMayBeSetOthersAreDropped() {
        let env = InstanceConfig.default.environment
        #expect(
            env.merged(with: ["EVIL=1", "TERM=xterm", "LD_PRELOAD=/x.so", "LANG=C.UTF-8"])
                == ["HOME=/root", "PATH=/bin", "TERM=xterm", "LANG=C.UTF-8"])
        // The caller's order decides the order of added variables; the last value wins.
        #expect(
            env.merged(with: ["LANG=C", "TERM=a", "LANG=en_US"]) == ["HOME=/root", "PATH=/bin", "LANG=en_US", "TERM=a"])
        // Malformed caller entries are dropped.
        #expect(env.merged(with: ["TERM", "=x", "1TERM=x", "TERM=a=b"]) == ["HOME=/root", "PATH=/bin", "TERM=a=b"])
    }

    @Test func defaultsAreNotOverridableUnlessUntrusted() {
        let env = InstanceConfig.default.environment
        #expect(env.merged(with: ["PATH=/evil", "HOME=/tmp"]) == ["HOME=/root", "PATH=/bin"])
        var open = env
        open.untrusted.append("PATH")
        #expect(open.merged(with: ["TERM=t", "PATH=/usr/bin"]) == ["HOME=/root", "PATH=/usr/bin", "TERM=t"])
    }

    // MARK: Loading

    @Test func loadReadsTheInstanceFolder() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("cloister-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/Cloister.json"

        let missing = Result { () throws(ConfigError) -> InstanceConfig in
            try InstanceConfig.load(instanceDirectory: directory)
        }
        guard case .failure(let missingError) = missing else {
            Issue.record("a missing Cloister.json was accepted")
            return
        }
        #expect(missingError.file == path)
        #expect(missingError.line == 0)
        #expect(missingError.message.contains("no such file"))
        #expect(missingError.description.hasPrefix(path + ": "))

        try InstanceConfig.defaultJSON.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try InstanceConfig.load(instanceDirectory: directory) == InstanceConfig.default)
        #expect(try InstanceConfig.load(instanceDirectory: directory + "/") == InstanceConfig.default)

        try defaultReplacing("\"256MB\"", with: "\"32XB\"").write(toFile: path, atomically: true, encoding: .utf8)
        let invalid = Result { () throws(ConfigError) -> InstanceConfig in
            try InstanceConfig.load(instanceDirectory: directory)
        }
        guard case .failure(let invalidError) = invalid else {
            Issue.record("an invalid Cloister.json was accepted")
            return
        }
        #expect(invalidError.file == path)
        #expect(invalidError.line == 3 && invalidError.column == 24)
        #expect(
            invalidError.description
                == "\(path):3:24: resource_limits.user_space_size: expected a size like \"32MB\", got \"32XB\"")
    }

    @Test func loadFromMissingFolderNamesThePath() {
        let directory = "/nonexistent/cloister-\(UUID().uuidString)"
        let result = Result { () throws(ConfigError) -> InstanceConfig in
            try InstanceConfig.load(instanceDirectory: directory)
        }
        guard case .failure(let error) = result else {
            Issue.record("a missing folder was accepted")
            return
        }
        #expect(error.file == directory + "/Cloister.json")
        #expect(error.message.contains("does not exist"))
    }
}
