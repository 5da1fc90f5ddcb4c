#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about this process and its randomness that the server reports or hands out.
package enum ProcessFacts {
    /// Resident memory of this process, from /proc/self/statm.
    package static func residentBytes() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return 0 }
        let fields = String(decoding: buffer.prefix(n), as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// A new id for a revision sequence (a daemon instance, a state file, a shared store): 16
    /// hex digits, the first 8 the Unix time in seconds the sequence began, the rest random.
    /// Whoever serves the sequence can tell when it began from its id alone: DNS serials build
    /// on that, so every daemon sharing a store derives the same serial, and a new sequence's
    /// serials start above an older one's.
    package static func sequenceID(now: Int64 = Int64(time(nil))) -> String {
        let seconds = String(UInt32(truncatingIfNeeded: now), radix: 16)
        return String(repeating: "0", count: 8 - seconds.count) + seconds + randomHex(bytes: 4)
    }

    /// When the sequence `id` (from `sequenceID`) began, in Unix seconds; nil for an id made
    /// another way (an older daemon's random id).
    package static func sequenceStart(of id: String) -> UInt32? {
        guard id.utf8.count == 16, id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }),
              let seconds = UInt32(id.prefix(8), radix: 16) else { return nil }
        return seconds
    }

    /// Random hex from the system CSPRNG, for instance ids and resume tokens.
    package static func randomHex(bytes: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        var out = ""
        for _ in 0..<bytes {
            let b = UInt8.random(in: 0...255, using: &rng)
            out += String(b >> 4, radix: 16) + String(b & 0xF, radix: 16)
        }
        return out
    }
}
