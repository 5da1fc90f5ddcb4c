import NIOCore

/// Writes a message head into a `ByteBuffer` in one reserved region: the head's pieces are
/// copied with `memcpy`-like moves, and the buffer is asked for room once (`write(into:…)`)
/// instead of once a piece, each of which checks the buffer's uniqueness and capacity. The
/// caller gives an upper bound of the head's length; a piece past it is a programming error.
struct HeadBytes {
    private let base: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    private init(_ base: UnsafeMutableRawBufferPointer) {
        self.base = base
    }

    /// Appends to `buffer` what `body` puts, in a region of at least `capacity` bytes.
    static func write(into buffer: inout ByteBuffer, capacity: Int, _ body: (inout HeadBytes) -> Void) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { region in
            var head = HeadBytes(region)
            body(&head)
            return head.count
        }
    }

    mutating func put(_ text: StaticString) {
        put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func put(_ text: String) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { put(UnsafeRawBufferPointer($0)) }
        if done == nil { for byte in text.utf8 { put(byte) } }
    }

    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        precondition(count + bytes.count <= base.count, "a head outgrew the room reserved for it")
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        (base.baseAddress! + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    mutating func put(_ byte: UInt8) {
        precondition(count < base.count, "a head outgrew the room reserved for it")
        base[count] = byte
        count += 1
    }

    /// `value` in decimal.
    mutating func put(decimal value: Int) {
        precondition(value >= 0)
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for Int.max's 19 digits
        withUnsafeMutableBytes(of: &digits) { scratch in
            var n = value, at = scratch.count
            repeat {
                at -= 1
                scratch[at] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            } while n > 0
            put(UnsafeRawBufferPointer(rebasing: scratch[at...]))
        }
    }
}
