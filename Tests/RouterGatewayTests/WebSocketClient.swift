import Foundation
import RouterTestSupport

/// Just enough of a WebSocket client (RFC 6455) to check that a gateway passes a protocol
/// switch through: the upgrade request, masked text frames out, unmasked text frames in.
final class WebSocketClient {
    let fd: Int32
    private(set) var handshake = ""
    private var pending: [UInt8] = []

    init(port: Int, host: String) throws {
        fd = connectTCP(port: port)
        guard fd >= 0 else { throw LaunchError("cannot connect to port \(port)") }
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try write(Array("GET /chat HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
        while true {
            if let end = pending.firstRange(of: Array("\r\n\r\n".utf8)) {
                handshake = String(decoding: pending[..<end.upperBound], as: UTF8.self)
                pending.removeFirst(end.upperBound)
                break
            }
            try fill()
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try write(frame)
    }

    func receive() throws -> String {
        while true {
            if pending.count >= 2 {
                var length = Int(pending[1] & 0x7F)
                var offset = 2
                if length == 126, pending.count >= 4 {
                    length = Int(pending[2]) << 8 | Int(pending[3])
                    offset = 4
                }
                if pending.count >= offset + length, length != 126 || offset == 4 {
                    let text = String(decoding: pending[offset..<(offset + length)], as: UTF8.self)
                    pending.removeFirst(offset + length)
                    return text
                }
            }
            try fill()
        }
    }

    private func write(_ bytes: [UInt8]) throws {
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw LaunchError("short write") }
    }

    private func fill() throws {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 5000) > 0 else { throw LaunchError("nothing from the gateway within 5 s; so far: \(String(decoding: pending, as: UTF8.self))") }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = read(fd, &chunk, chunk.count)
        guard n > 0 else { throw LaunchError("the gateway closed; so far: \(String(decoding: pending, as: UTF8.self))") }
        pending += chunk[..<n]
    }
}
