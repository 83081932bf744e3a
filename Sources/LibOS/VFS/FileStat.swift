/// The type of a file, numbered as WASI's `filetype`.
public enum FileType: UInt8, Sendable {
    case unknown = 0
    case blockDevice = 1
    case characterDevice = 2
    case directory = 3
    case regularFile = 4
    case socketDgram = 5
    case socketStream = 6
    case symbolicLink = 7
}

/// The attributes of a file, as WASI's `filestat` carries them.
public struct FileStat: Sendable, Equatable {
    public var device: UInt64
    public var inode: UInt64
    public var type: FileType
    public var linkCount: UInt64
    public var size: UInt64
    /// Times in nanoseconds since the Unix epoch.
    public var accessTime: UInt64
    public var modificationTime: UInt64
    public var changeTime: UInt64
}

/// One entry of a directory listing.
public struct DirectoryEntry: Sendable, Equatable {
    public var name: String
    public var inode: UInt64
    public var type: FileType
}

/// How a set-times call changes one timestamp.
public enum TimeChange: Sendable, Equatable {
    case keep
    case now
    case set(UInt64)
}

/// Which of a file's ends a seek counts from (WASI `whence`).
public enum SeekOrigin: UInt8, Sendable {
    case start = 0
    case current = 1
    case end = 2
}
