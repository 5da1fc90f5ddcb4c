#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The HTTP listener's access log: one line per request (host asked for, route key, method,
/// status, bytes, ms) on standard error, in the same form as routergw's other log lines
/// (swift-log's stream handler), e.g. `2026-12-05T10:00:00+0000 info routergw: bytes=3
/// host=app.example.com key=app.example.com method=GET ms=0.41 status=200 [RouterGateway] http`.
///
/// Written beside swift-log rather than through it because it is on every request's path:
/// a line is formatted into a buffer with no metadata dictionary, and the lines of one event
/// loop iteration go to the `AccessLogWriter` together, which writes them off the loop
/// (swift-log's stream handler locks, formats and flushes each line on its own, on the caller's
/// thread). One log per event loop, used only on it; whole lines only, so the lines of two
/// loops never mix.
final class AccessLog {
    private let loop: any EventLoop
    private let writer: AccessLogWriter
    private var buffer: [UInt8] = []
    private var lines = 0
    private var flushScheduled = false
    private var stampSecond = -1
    private var stamp: [UInt8] = []

    init(loop: any EventLoop, writer: AccessLogWriter) {
        self.loop = loop
        self.writer = writer
        buffer.reserveCapacity(16 * 1024)
    }

    /// Appends a Host header value as the log may carry it: lower case, at most 255 bytes, and
    /// any byte outside a host name's (letters, digits, `.-_:[]`) as `?`, so that a hostile
    /// header cannot forge a field or a line; `-` when there is none.
    private func appendHost(_ host: String) {
        guard !host.isEmpty else { return buffer.append(UInt8(ascii: "-")) }
        // Most are a name as it routes: copied whole.
        if host.utf8.count <= 255, host.utf8.allSatisfy(Self.isLoggedAsIs) { return buffer += host.utf8 }
        for byte in host.utf8.prefix(255) {
            if Self.isLoggedAsIs(byte) {
                buffer.append(byte)
            } else if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") {
                buffer.append(byte + 32)
            } else {
                buffer.append(UInt8(ascii: "?"))
            }
        }
    }

    /// A byte of a host name written as it is: lower-case letters, digits, `.-_:[]`.
    private static func isLoggedAsIs(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
            true
        default:
            false
        }
    }

    /// Adds one request's line; it is written at the end of this event loop iteration.
    func record(key: String, host: String, method: String, status: Int, bytes: Int, started: NIODeadline) {
        let micros = Int((NIODeadline.now() - started).nanoseconds / 1_000)
        appendStamp()
        buffer += " info routergw: bytes=".utf8
        append(bytes)
        buffer += " host=".utf8
        appendHost(host)
        buffer += " key=".utf8
        buffer += key.utf8
        buffer += " method=".utf8
        buffer += method.utf8
        buffer += " ms=".utf8
        // Milliseconds with two decimals, as the other lines give them.
        let hundredths = (micros + 5) / 10
        append(hundredths / 100)
        let cents = hundredths % 100
        if cents > 0 {
            buffer.append(UInt8(ascii: "."))
            buffer.append(UInt8(ascii: "0") + UInt8(cents / 10))
            if cents % 10 > 0 { buffer.append(UInt8(ascii: "0") + UInt8(cents % 10)) }
        } else {
            buffer += ".0".utf8
        }
        buffer += " status=".utf8
        append(status)
        buffer += " [RouterGateway] http\n".utf8
        lines += 1
        if !flushScheduled {
            flushScheduled = true
            loop.assumeIsolated().execute { self.flush() }
        }
    }

    /// Hands what the buffer holds to the writer.
    func flush() {
        flushScheduled = false
        guard !buffer.isEmpty else { return }
        var batch: [UInt8] = []
        batch.reserveCapacity(16 * 1024)
        swap(&batch, &buffer)
        writer.write(batch, count: lines)
        lines = 0
    }

    private func append(_ value: Int) {
        if value < 0 {
            buffer.append(UInt8(ascii: "-"))
            return append(-value)
        }
        if value >= 10 { append(value / 10) }
        buffer.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// The local time to the second, as swift-log's stream handler writes it
    /// (`%Y-%m-%dT%H:%M:%S%z`), formatted once a second.
    private func appendStamp() {
        var now = time(nil)
        if Int(now) != stampSecond {
            stampSecond = Int(now)
            var parts = tm()
            localtime_r(&now, &parts)
            var text = [CChar](repeating: 0, count: 64)
            let length = strftime(&text, text.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
            stamp = text[..<length].map { UInt8(bitPattern: $0) }
        }
        buffer += stamp
    }
}
