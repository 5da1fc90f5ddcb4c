/// The commonest batch lines — `add KEY`, `add KEY --tunnel T`, `add KEY --tunnel T --target A`
/// (either order) and `delete KEY`, of plain words — written straight into the request's JSON
/// bytes, without words as strings or a JSON value tree: a 100,000-line batch spends most of
/// its time reading its lines. Any other line (another flag, a quote, an `=`, a byte outside
/// printable ASCII) is left to `Batch.parse`, so both read every line they take the same way;
/// `BatchTests` checks them against each other.
enum BatchPlainLine {
    /// Appends `{"id":ID,"op":…}` and a newline for `line` to `out`; false (and nothing
    /// appended) when the line is not one of the plain forms.
    static func encode(_ line: String, id: Int64, into out: inout [UInt8]) -> Bool {
        var line = line
        return line.withUTF8 { encode($0, id: id, into: &out) }
    }

    /// `encode` for a line's bytes (without its line end).
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>, id: Int64, into out: inout [UInt8]) -> Bool {
        // At most six words, as byte ranges, kept on the stack.
        withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: 6) { storage -> Bool in
            var count = 0
            func append(_ range: Range<Int>) { storage[count] = range; count += 1 }
            var start = -1
            for i in 0..<bytes.count {
                let b = bytes[i]
                if b == 0x20 || b == 0x09 {
                    if start >= 0 { append(start..<i); start = -1 }
                    continue
                }
                // Printable ASCII but for the quotes, backslash, `#` and `=`.
                guard b > 0x20, b < 0x7F, b != 0x22, b != 0x27, b != 0x5C, b != 0x23, b != 0x3D else { return false }
                if start < 0 {
                    guard count < 6 else { return false }
                    start = i
                }
            }
            if start >= 0 { append(start..<bytes.count) }
            func word(_ n: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[storage[n]]) }
            func equals(_ n: Int, _ text: StaticString) -> Bool {
                let w = word(n)
                return w.count == text.utf8CodeUnitCount && w.elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
            }
            guard count >= 2, word(1).first != UInt8(ascii: "-") else { return false }
            var tunnel: Int?
            var target: Int?
            if equals(0, "delete") {
                guard count == 2 else { return false }
            } else if equals(0, "add") {
                var n = 2
                while n < count {
                    guard n + 1 < count, word(n + 1).first != UInt8(ascii: "-") else { return false }
                    if equals(n, "--tunnel"), tunnel == nil {
                        tunnel = n + 1
                    } else if equals(n, "--target"), target == nil {
                        target = n + 1
                    } else {
                        return false
                    }
                    n += 2
                }
            } else {
                return false
            }
            out += #"{"id":"#.utf8
            out += String(id).utf8
            out += equals(0, "add") ? #","op":"add","key":""#.utf8 : #","op":"delete","key":""#.utf8
            out += word(1)
            if let tunnel {
                out += #"","tunnel":""#.utf8
                out += word(tunnel)
            }
            if let target {
                out += #"","target":""#.utf8
                out += word(target)
            }
            out += #""}"#.utf8
            out.append(0x0A)
            return true
        }
    }
}
