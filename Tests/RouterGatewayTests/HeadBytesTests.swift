import NIOCore
@testable import RouterGateway
import Testing

/// Heads are written into one reserved region of the buffer, after what it already holds.
@Suite("routergw: head bytes")
struct HeadBytesTests {
    @Test func piecesOfEveryKindLandInOrderAfterWhatTheBufferHeld() {
        var buffer = ByteBuffer(string: "before|")
        let bytes: [UInt8] = Array("raw".utf8)
        HeadBytes.write(into: &buffer, capacity: 80) { out in
            out.put("static ")
            out.put("a string with é ")
            bytes.withUnsafeBytes { out.put($0) }
            out.put(UInt8(ascii: " "))
            out.put(decimal: 0)
            out.put(UInt8(ascii: " "))
            out.put(decimal: 1_234_567)
            out.put(UInt8(ascii: " "))
            out.put(decimal: Int.max)
        }
        #expect(String(buffer: buffer) == "before|static a string with é raw 0 1234567 \(Int.max)")
    }
}
