import Testing
@testable import DomainRouter

@Suite("Timestamps")
struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"),
        (1_780_000_000_123, "2026-05-28T20:26:40.123Z"),
        (951_782_400_000, "2000-02-29T00:00:00Z"),
        (4_102_444_799_999, "2099-12-31T23:59:59.999Z"),
    ])
    func formatsAsRFC3339InUTC(_ milliseconds: Int64, _ expected: String) {
        #expect(Timestamp(millisecondsSinceEpoch: milliseconds).rfc3339 == expected)
    }
}
