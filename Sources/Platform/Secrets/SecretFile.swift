import Foundation

/// Files that hold secrets: created exclusively with mode 0600 whatever the umask, written in
/// full, then renamed into place.
enum SecretFile {
    /// Writes `bytes` to `path` through `path.partial`; false if it could not.
    static func write(_ bytes: [UInt8], to path: String) -> Bool {
        let temporary = path + ".partial"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        // open(2)'s mode is masked by the umask; fchmod is not.
        let written = fchmod(fd, 0o600) == 0 && bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) } == bytes.count
            && fsync(fd) == 0
        close(fd)
        guard written, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }

    /// Writes `bytes` to a new file at `path`, like ``write(_:to:)`` but never replacing one: false
    /// (and `errno` EEXIST) when `path` exists, so that of two processes creating the same key at
    /// once, one wins and the other reads the winner's.
    static func create(_ bytes: [UInt8], at path: String) -> Bool {
        let temporary = path + ".\(getpid()).partial"
        guard write(bytes, to: temporary) else { return false }
        let linked = link(temporary, path) == 0
        let saved = errno
        unlink(temporary)
        errno = saved
        return linked
    }
}

/// The data folder's own folders and files: owner-only, whatever the umask.
enum PrivateFiles {
    /// Creates `path` (and its parents) if needed and makes it 0700. A folder another process
    /// creates at the same moment is fine (FileManager's createDirectory fails then with
    /// NSCocoaErrorDomain 516, "file exists").
    static func makeFolder(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            guard mkdir(prefix, 0o700) == 0 || errno == EEXIST else {
                throw PlatformSetupError("cannot create the folder \(prefix): \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw PlatformSetupError("\(path) is not a folder")
        }
        guard chmod(path, 0o700) == 0 else {
            throw PlatformSetupError("cannot make \(path) private (chmod 0700): \(String(cString: strerror(errno)))")
        }
    }

    /// Makes every regular file directly in `folder` 0600.
    static func restrictFiles(in folder: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            let path = folder + "/" + name
            var info = stat()
            if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG { chmod(path, 0o600) }
        }
    }
}
