import Synchronization

/// An open file description shared by every descriptor that refers to it.
///
/// A descriptor holds one reference. Descriptors share a description when a child process
/// inherits its parent's table at spawn, when a spawn file action duplicates one (`dup2`), or
/// when `/dev/stdout` reopens a standard stream. The description is closed when the last
/// reference goes, so a pipe's reader sees end-of-file only after every writer has closed.
public final class OpenFile: @unchecked Sendable {
    public let description: any FileDescription
    /// False for descriptions the kernel does not own (the host's standard streams).
    private let closesDescription: Bool
    private let references = Atomic<Int>(1)

    init(_ description: any FileDescription, closesDescription: Bool = true) {
        self.description = description
        self.closesDescription = closesDescription
    }

    /// Takes one more reference.
    @discardableResult
    func retain() -> OpenFile {
        references.add(1, ordering: .relaxed)
        return self
    }

    /// Drops one reference, closing the description with the last.
    func release() {
        let remaining = references.subtract(1, ordering: .acquiringAndReleasing).newValue
        if remaining == 0, closesDescription { description.close() }
    }
}
