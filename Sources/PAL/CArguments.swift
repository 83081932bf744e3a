import LibOS

/// Reading the caller's C arguments: strings and NULL-terminated string arrays.
///
/// A NULL where a value is required, or bytes that are not UTF-8, are `EINVAL`; an array longer
/// than ``maximumEntries`` is `E2BIG`. The caller's pointers are trusted to be readable: C gives
/// no way to check them.
enum CArguments {
    /// The most entries an argv or env array may hold.
    static let maximumEntries = 65_536

    /// The UTF-8 string at `pointer`; `what` names it in the error.
    static func string(_ pointer: UnsafePointer<CChar>?, _ what: String) throws(Errno) -> String {
        guard let pointer else { throw Errno.inval.with(reason: "\(what) is NULL") }
        guard let string = String(validatingCString: pointer) else {
            throw Errno.inval.with(reason: "\(what) is not valid UTF-8")
        }
        return string
    }

    /// The strings of a NULL-terminated array; `nil` for a NULL array.
    static func strings(_ array: UnsafePointer<UnsafePointer<CChar>?>?, _ what: String) throws(Errno) -> [String]? {
        guard let array else { return nil }
        var result: [String] = []
        var index = 0
        while let entry = array[index] {
            guard index < maximumEntries else {
                throw Errno.toobig.with(reason: "\(what) has more than \(maximumEntries) entries")
            }
            result.append(try string(entry, "\(what)[\(index)]"))
            index += 1
        }
        return result
    }

    /// Checks that `pointer` is not NULL; `what` names it in the error.
    static func required<T>(_ pointer: T?, _ what: String) throws(Errno) -> T {
        guard let pointer else { throw Errno.inval.with(reason: "\(what) is NULL") }
        return pointer
    }
}
