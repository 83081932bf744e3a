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
    }
    private let state = Mutex(State())
    let limits: LoginLimits
    /// Entries kept at most per map; past it the stalest are dropped (bounded memory under a flood
    /// of distinct ids or addresses).
    private let maxEntries = 100_000

    init(limits: LoginLimits) {
        self.limits = limits
    }

    /// Admits an attempt for `account` from `address` (nil: unknown, not counted), or throws 429.
    func admit(account: String, address: String?, now: Date = Date()) throws(PlatformError) {
        let limits = limits
        let wait: TimeInterval? = state.withLock { state in
            let failures = Self.recent(state.failuresByAccount[account] ?? [], within: limits.accountWindow, now: now)
            state.failuresByAccount[account] = failures.isEmpty ? nil : failures
            if failures.count >= limits.failuresPerAccount {
                return failures[failures.count - limits.failuresPerAccount].timeIntervalSince(now) + limits.accountWindow
            }
            guard let address else { return nil }
            var attempts = Self.recent(state.byAddress[address] ?? [], within: limits.addressWindow, now: now)
            if attempts.count >= limits.attemptsPerAddress {
                state.byAddress[address] = attempts
                return attempts[attempts.count - limits.attemptsPerAddress].timeIntervalSince(now) + limits.addressWindow
            }
            attempts.append(now)
            state.byAddress[address] = attempts
            Self.trim(&state.byAddress, to: maxEntries)
            return nil
        }
        if let wait {
            throw .tooManyRequests("too many login attempts; try again later", retryAfter: max(1, Int(wait.rounded(.up))))
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
