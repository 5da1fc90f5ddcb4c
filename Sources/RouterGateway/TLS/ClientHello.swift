import NIOCore

/// The server name of a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3), read from the first
/// bytes of a connection without decrypting anything: what TLS pass-through routes by.
enum ClientHello {
    enum Parse: Equatable {
        /// Not all of the hello is here yet.
        case needMoreData
        /// The hello's server name (nil when it names none).
        case complete(serverName: String?)
        /// Not a TLS handshake, or a hello that does not parse.
        case malformed
    }

    /// The most bytes a hello may take before it is refused (records of up to 16 KiB; a hello
    /// spread over several records, as large post-quantum key shares can make it, fits).
    static let maximumLength = 65_536

    /// Parses the handshake records at the start of `buffer` (left unchanged).
    static func parse(_ buffer: ByteBuffer) -> Parse {
        // Reassemble the handshake message from the records it spans.
        var input = buffer
        var message: [UInt8] = []
        var needed: Int?
        while needed == nil || message.count < needed! {
            guard let header = input.readBytes(length: 5) else { return .needMoreData }
            guard header[0] == 0x16, header[1] == 0x03 else { return .malformed }
            let length = Int(header[3]) << 8 | Int(header[4])
            guard length > 0, length <= 16_384 + 2048 else { return .malformed }
            guard let fragment = input.readBytes(length: length) else { return .needMoreData }
            message += fragment
            if needed == nil, message.count >= 4 {
                guard message[0] == 0x01 else { return .malformed }
                needed = 4 + (Int(message[1]) << 16 | Int(message[2]) << 8 | Int(message[3]))
                guard needed! <= maximumLength else { return .malformed }
            }
        }
        return serverName(Array(message[4..<needed!]))
    }

    private static func serverName(_ body: [UInt8]) -> Parse {
        var reader = ByteBuffer(bytes: body)
        // legacy_version, random
        guard reader.readSlice(length: 34) != nil,
              let sessionLength = reader.readInteger(as: UInt8.self), reader.readSlice(length: Int(sessionLength)) != nil,
              let suitesLength = reader.readInteger(as: UInt16.self), reader.readSlice(length: Int(suitesLength)) != nil,
              let compressionLength = reader.readInteger(as: UInt8.self), reader.readSlice(length: Int(compressionLength)) != nil
        else { return .malformed }
        guard reader.readableBytes > 0 else { return .complete(serverName: nil) }
        guard let extensionsLength = reader.readInteger(as: UInt16.self),
              var extensions = reader.readSlice(length: Int(extensionsLength)) else { return .malformed }
        while extensions.readableBytes > 0 {
            guard let type = extensions.readInteger(as: UInt16.self), let length = extensions.readInteger(as: UInt16.self),
                  var data = extensions.readSlice(length: Int(length)) else { return .malformed }
            guard type == 0 else { continue }
            guard let listLength = data.readInteger(as: UInt16.self), var list = data.readSlice(length: Int(listLength)) else {
                return .malformed
            }
            while list.readableBytes > 0 {
                guard let nameType = list.readInteger(as: UInt8.self), let nameLength = list.readInteger(as: UInt16.self),
                      let name = list.readBytes(length: Int(nameLength)) else { return .malformed }
                if nameType == 0 {
                    // RFC 6066: ASCII host name, no trailing dot; anything else does not route.
                    guard !name.isEmpty, name.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .malformed }
                    return .complete(serverName: String(decoding: name, as: UTF8.self))
                }
            }
            return .complete(serverName: nil)
        }
        return .complete(serverName: nil)
    }
}
