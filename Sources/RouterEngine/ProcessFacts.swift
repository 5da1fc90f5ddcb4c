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
