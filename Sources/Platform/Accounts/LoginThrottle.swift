import Foundation
import Synchronization

/// How many login attempts the platform takes, before it checks a password.
public struct LoginLimits: Sendable {
    /// Attempts from one client address within `addressWindow` seconds.
    public var attemptsPerAddress = 30
    public var addressWindow: TimeInterval = 60
    /// Failed attempts for one user id within `accountWindow` seconds; past it the id takes no
    /// attempt (not even the right password) until the oldest failure is that old.
    public var failuresPerAccount = 10
    public var accountWindow: TimeInterval = 15 * 60

    public init() {}
}

/// Counts login attempts per client address and failures per account, in memory (per process),
/// and refuses an attempt past either limit with a 429 that says when to try again. A refused
/// attempt costs no bcrypt work, so a flood cannot keep the password pool busy.
final class LoginThrottle: Sendable {
    private struct State {
        var byAddress: [String: [Date]] = [:]
        var failuresByAccount: [String: [Date]] = [:]
        /// The accounts and addresses whose current refusals were reported once already.
        var reported: Set<String> = []
    }
    private let state = Mutex(State())
    let limits: LoginLimits
    /// Entries kept at most per map; past it the stalest are dropped (bounded memory under a flood
    /// of distinct ids or addresses).
    private let maxEntries = 100_000

    /// An attempt refused: the 429 to answer, and whether it is the first refusal of this lock
    /// (the one worth recording; the rest would let a flood grow the audit log).
    struct Refusal: Error {
        let error: PlatformError
        let isFirst: Bool
    }

    init(limits: LoginLimits) {
        self.limits = limits
    }

    /// Admits an attempt for `account` (nil: a malformed id, not counted per account) from
    /// `address` (nil: unknown, not counted), or throws a `Refusal`.
    func admit(account: String?, address: String?, now: Date = Date()) throws(Refusal) {
        let limits = limits
        let refused: (wait: TimeInterval, first: Bool)? = state.withLock { state in
            if let account {
                let failures = Self.recent(state.failuresByAccount[account] ?? [], within: limits.accountWindow, now: now)
                state.failuresByAccount[account] = failures.isEmpty ? nil : failures
                if failures.count >= limits.failuresPerAccount {
                    let first = state.reported.insert("account " + account).inserted
                    return (failures[failures.count - limits.failuresPerAccount].timeIntervalSince(now) + limits.accountWindow, first)
                }
                state.reported.remove("account " + account)
            }
            guard let address else { return nil }
            var attempts = Self.recent(state.byAddress[address] ?? [], within: limits.addressWindow, now: now)
            if attempts.count >= limits.attemptsPerAddress {
                state.byAddress[address] = attempts
                let first = state.reported.insert("address " + address).inserted
                return (attempts[attempts.count - limits.attemptsPerAddress].timeIntervalSince(now) + limits.addressWindow, first)
            }
            state.reported.remove("address " + address)
            attempts.append(now)
            state.byAddress[address] = attempts
            Self.trim(&state.byAddress, to: maxEntries)
            if state.reported.count > maxEntries { state.reported.removeAll() }
            return nil
        }
        if let refused {
            throw Refusal(
                error: .tooManyRequests("too many login attempts; try again later", retryAfter: max(1, Int(refused.wait.rounded(.up)))),
                isFirst: refused.first)
        }
    }
    /// Counts a failed attempt against `account`.
    func failed(account: String, now: Date = Date()) {
        state.withLock { state in
            state.failuresByAccount[account, default: []].append(now)
            Self.trim(&state.failuresByAccount, to: maxEntries)
        }
    }

    /// Forgets the failures of `account` (it logged in).
    func succeeded(account: String) {
        _ = state.withLock { $0.failuresByAccount.removeValue(forKey: account) }
    }

    private static func recent(_ times: [Date], within window: TimeInterval, now: Date) -> [Date] {
        times.filter { now.timeIntervalSince($0) < window }
    }

    private static func trim(_ map: inout [String: [Date]], to limit: Int) {
        guard map.count > limit else { return }
        let stalest = map.sorted { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) }.prefix(map.count - limit / 2)
        for (key, _) in stalest { map.removeValue(forKey: key) }
    }
}
