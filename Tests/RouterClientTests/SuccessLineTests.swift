import Testing
@testable import RouterClient

/// `readIgnoringResults` reads a success from its first bytes only: exactly the lines routerd
/// writes for a success, and nothing else.
@Suite("Reading a success without its result")
struct SuccessLineTests {
    @Test func aSuccessIsKnownByItsFirstBytes() {
        #expect(RouterClient.successID(#"{"id":42,"ok":true,"revision":7,"result":{"route":{}}}"#) == "42")
        #expect(RouterClient.successID(#"{"id":0,"ok":true,"revision":0,"result":{}}"#) == "0")
    }

    @Test(arguments: [
        #"{"id":42,"ok":false,"error":{"code":"conflict","message":"taken","details":{}}}"#,
        #"{"id":"x","ok":true,"revision":1,"result":{}}"#,
        #"{"id":null,"ok":true,"revision":1,"result":{}}"#,
        #"{"id":042,"ok":true,"revision":1,"result":{}}"#,
        #"{"id":42,"route":{"key":"a"}}"#,
        #"{"ok":true,"id":42,"revision":1}"#,
        #"{"id":42,"ok":true}"#,
        #"{"id":1234567890123456789,"ok":true,"revision":1}"#,
    ])
    func anythingElseIsReadInFull(_ line: String) {
        #expect(RouterClient.successID(line) == nil, "\(line)")
    }
}
