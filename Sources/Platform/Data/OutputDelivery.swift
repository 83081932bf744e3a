import Foundation
import Logging

/// How a run's outputs reach their owners exactly once, committed together with the task's end.
///
/// A file cannot join a database transaction, so an output moves in three steps:
/// 1. **before the commit** the worker moves each written output from its work folder into
///    `<outputs>/.pending/<task>.<attempt>/` and makes it durable (file and folder fsync'd);
/// 2. **the commit** records the output's tag, where it waits (`FileRecord.deliveredFrom`) and the
///    task's end in one transaction — only if the worker still holds that attempt, so a cancel or a
///    lease taken over in between leaves nothing;
/// 3. **after the commit** the output is linked into its destination (never replacing a file) and
///    its pending copy removed.
///
/// A worker that stops between 2 and 3 leaves the file pending: whoever next needs it (a download,
/// a task reading it as a chained input, or any pool's sweep) finishes the move (``settle(_:destination:)``).
/// Pending folders of attempts that will never commit (canceled, failed, taken over) are removed by
/// the sweep. The outputs folder must be one folder shared by every server and worker.
struct OutputDelivery: Sendable {
    let outputFolder: String
    let logger: Logger

    var pendingRoot: String { outputFolder + "/.pending" }

    /// The pending folder of attempt `attempt` of `task`, relative to ``pendingRoot``.
    static func pendingName(task: String, attempt: Int) -> String { "\(task).\(attempt)" }

    /// Step 1: moves each staged output (`name` → its path in the work folder) into the attempt's
    /// pending folder, durably. What `FileRecord.deliveredFrom` records for each.
    func stage(_ staged: [String: String], task: String, attempt: Int) throws -> [String: String] {
        guard !staged.isEmpty else { return [:] }
        let folderName = Self.pendingName(task: task, attempt: attempt)
        let folder = pendingRoot + "/" + folderName
        try PrivateFiles.makeFolder(pendingRoot)
        try PrivateFiles.makeFolder(folder)
        var result: [String: String] = [:]
        for (name, path) in staged.sorted(by: { $0.key < $1.key }) {
            let relative = folderName + "/output-" + name
            let target = pendingRoot + "/" + relative
            unlink(target)
            try Self.syncFile(path)
            try Self.linkOrCopy(path, to: target)
            result[name] = relative
        }
        try Self.syncFolder(folder)
        try Self.syncFolder(pendingRoot)
        return result
    }

    /// Step 3: moves the pending output `relative` to `destination`. Idempotent: done already (by
    /// this worker or another process) is success.
    func publish(_ relative: String, to destination: String) throws {
        let pending = pendingRoot + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var source = stat()
        guard lstat(pending, &source) == 0 else { return }  // moved already
        chmod(pending, 0o600)
        if link(pending, destination) != 0 {
            let failure = errno
            if failure == EXDEV {
                try Self.copyIn(pending, to: destination)
            } else if failure != EEXIST {
                throw PlatformError.conflict("cannot move an output into place: \(String(cString: strerror(failure)))")
            } else {
                // There already: our own link (a process that stopped after linking), or a copy of it.
                var there = stat()
                guard lstat(destination, &there) == 0, there.st_ino == source.st_ino || there.st_size == source.st_size else {
                    logger.error("output \(relative): \(destination) holds another file; the output stays in \(pending)")
                    throw PlatformError.conflict("a file exists already where the output goes; nothing was replaced")
                }
            }
        }
        try? Self.syncFolder((destination as NSString).deletingLastPathComponent)
        unlink(pending)
        rmdir((pending as NSString).deletingLastPathComponent)
    }

    /// Removes the pending folder of an attempt that did not (or will not) commit.
    func discard(task: String, attempt: Int) {
        try? FileManager.default.removeItem(atPath: pendingRoot + "/" + Self.pendingName(task: task, attempt: attempt))
    }

    /// Finishes the move of a written output whose worker stopped after the commit: before anyone
    /// reads `destination`.
    func settle(_ record: FileRecord, destination: String) {
        guard record.tag != nil, let relative = record.deliveredFrom, access(destination, F_OK) != 0 else { return }
        do {
            try publish(relative, to: destination)
        } catch {
            logger.error("output \(record.id): could not finish its delivery: \(error)")
        }
    }

    /// The pending folders, by name (`<task>.<attempt>`).
    func pendingFolders() -> [(name: String, task: String, attempt: Int)] {
        ((try? FileManager.default.contentsOfDirectory(atPath: pendingRoot)) ?? []).compactMap { name in
            guard let dot = name.lastIndex(of: "."), let attempt = Int(name[name.index(after: dot)...]) else { return nil }
            return (name, String(name[..<dot]), attempt)
        }
    }

    private static func linkOrCopy(_ source: String, to target: String) throws {
        if link(source, target) == 0 { return }
        guard errno == EXDEV else {
            throw PlatformError.conflict("cannot stage an output for delivery: \(String(cString: strerror(errno)))")
        }
        try copyIn(source, to: target)
    }

    /// Copies `source` to a new file at `target` (never replacing one): through a temporary name in
    /// the same folder, synced, then linked, so `target` is never seen half-written.
    private static func copyIn(_ source: String, to target: String) throws {
        let temporary = target + ".cloister-\(UUID().uuidString.prefix(8))"
        defer { unlink(temporary) }
        let input = Glibc.open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw PlatformError.conflict("cannot read an output: \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let output = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw PlatformError.conflict("cannot write an output: \(String(cString: strerror(errno)))") }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw PlatformError.conflict("cannot read an output: \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            var done = 0
            while done < count {
                let written = buffer.withUnsafeBytes { write(output, $0.baseAddress! + done, count - done) }
                guard written > 0 else { throw PlatformError.conflict("cannot write an output: \(String(cString: strerror(errno)))") }
                done += written
            }
        }
        guard fsync(output) == 0 else { throw PlatformError.conflict("cannot sync an output: \(String(cString: strerror(errno)))") }
        guard link(temporary, target) == 0 || errno == EEXIST else {
            throw PlatformError.conflict("cannot move an output into place: \(String(cString: strerror(errno)))")
        }
    }

    private static func syncFile(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PlatformError.conflict("cannot open a written output: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw PlatformError.conflict("cannot sync a written output: \(String(cString: strerror(errno)))") }
    }

    static func syncFolder(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw PlatformError.conflict("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw PlatformError.conflict("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}
