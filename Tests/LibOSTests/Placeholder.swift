import Testing
@testable import LibOS
@Test func placeholder() {}
