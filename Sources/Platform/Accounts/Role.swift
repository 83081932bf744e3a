/// A user's role: what calls it may make and whom it may register.
///
/// - `PlatformAdmin` registers anyone, manages users, resets passwords, cancels any task and
///   reads the audit log.
/// - `FunctionOwner` manages its functions; it registers and manages nobody. The party that
///   writes code never manages an account that owns data: if it could, it could log in as a data
///   owner and run its own function over that owner's data.
/// - `DataOwnerManager-<attr>` registers `DataOwner-<attr>` users (the same attribute) and, like a
///   data owner, registers data and takes part in tasks.
/// - `DataOwner-<attr>` registers data and takes part in tasks.
///
/// Only an admin resets a password; any user changes its own (giving the old one).
public enum Role: Sendable, Hashable, CustomStringConvertible {
    case platformAdmin
    case functionOwner
    case dataOwnerManager(String)
    case dataOwner(String)

    /// Parses `PlatformAdmin`, `FunctionOwner`, `DataOwnerManager-<attr>` or `DataOwner-<attr>`
    /// (an attribute is 1–64 letters, digits, `_`, `.` or `-`).
    public init?(_ text: String) {
        switch text {
        case "PlatformAdmin": self = .platformAdmin
        case "FunctionOwner": self = .functionOwner
        default:
            if let attribute = Role.attribute(of: text, prefix: "DataOwnerManager-") {
                self = .dataOwnerManager(attribute)
            } else if let attribute = Role.attribute(of: text, prefix: "DataOwner-") {
                self = .dataOwner(attribute)
            } else {
                return nil
            }
        }
    }

    private static func attribute(of text: String, prefix: String) -> String? {
        guard text.hasPrefix(prefix) else { return nil }
        let attribute = String(text.dropFirst(prefix.count))
        guard Validation.isIdentifier(attribute) else { return nil }
        return attribute
    }

    public var description: String {
        switch self {
        case .platformAdmin: return "PlatformAdmin"
        case .functionOwner: return "FunctionOwner"
        case .dataOwnerManager(let attribute): return "DataOwnerManager-\(attribute)"
        case .dataOwner(let attribute): return "DataOwner-\(attribute)"
        }
    }

    /// Whether a user of this role may register (update, delete, reset) a user of `role`.
    public func mayRegister(_ role: Role) -> Bool {
        switch (self, role) {
        case (.platformAdmin, _): return true
        case (.dataOwnerManager(let mine), .dataOwner(let theirs)): return mine == theirs
        default: return false
        }
    }

    /// Function owners (and admins) register and manage functions.
    public var managesFunctions: Bool {
        switch self {
        case .platformAdmin, .functionOwner: return true
        default: return false
        }
    }

    /// Data owners and their managers register data and create tasks.
    public var usesData: Bool {
        switch self {
        case .dataOwner, .dataOwnerManager: return true
        default: return false
        }
    }

    /// The valid forms, for error messages.
    static let forms = "PlatformAdmin, FunctionOwner, DataOwnerManager-<attr> or DataOwner-<attr>"
}
