#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Route keys and tunnel ids as bytes in one growable buffer, addressed by offset.
///
/// Hand-written: a `String` per key costs a heap object (about 64 bytes for a 22-byte name)
/// and a reference count that every lookup would touch; here a key costs its length. Space
/// freed by removals is counted as garbage and reclaimed by `compact`, which the table runs
/// when garbage outweighs live bytes. Pointers from `bytes(at:length:)` stay valid until the
/// next `append` or `compact`. Not `Sendable`: only the table, under its lock, touches it.
final class ByteArena {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private(set) var capacity: Int
    private(set) var garbage = 0

    init(capacity: Int = 4096) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    /// Copies `bytes` in and returns their offset.
    func append(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        if count + bytes.count > capacity {
            var newCapacity = capacity * 2
            while newCapacity < count + bytes.count { newCapacity *= 2 }
            precondition(newCapacity <= Int(UInt32.max), "route key storage exceeds 4 GiB")
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: base, count: count)
            base.deallocate()
            base = grown
            capacity = newCapacity
        }
        let offset = count
        if let source = bytes.baseAddress { (base + offset).update(from: source, count: bytes.count) }
        count += bytes.count
        return UInt32(offset)
    }

    func append(_ string: String) -> UInt32 {
        HostNames.withBytes(string) { append($0) }
    }

    @inline(__always)
    func bytes(at offset: UInt32, length: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + Int(offset), count: length)
    }

    func string(at offset: UInt32, length: Int) -> String {
        String(decoding: bytes(at: offset, length: length), as: UTF8.self)
    }

    /// Marks `length` bytes as no longer referenced.
    func release(_ length: Int) {
        garbage += length
    }

    var shouldCompact: Bool { garbage > 1 << 16 && garbage > count / 2 }

    /// Rewrites the live byte strings to the front of a new buffer. `visit` is called with a
    /// relocation function for every live reference: pass the old offset and length, store
    /// the new offset it returns.
    func compact(_ visit: ((UInt32, Int) -> UInt32) -> Void) {
        let live = count - garbage
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: max(4096, live * 2))
        var used = 0
        visit { offset, length in
            (fresh + used).update(from: base + Int(offset), count: length)
            defer { used += length }
            return UInt32(used)
        }
        base.deallocate()
        base = fresh
        capacity = max(4096, live * 2)
        count = used
        garbage = 0
    }
}

/// Random bytes from the system CSPRNG (`/dev/urandom`), 16 KiB at a time so that
/// assigning tunnel ids does not cost system calls each; falls back to
/// `SystemRandomNumberGenerator` (also the system CSPRNG) if the device cannot be read.
struct RandomPool {
    private var buffer = [UInt8](repeating: 0, count: 16_384)
    private var used = 16_384

    mutating func next() -> UInt64 {
        if used + 8 > buffer.count {
            let filled = buffer.withUnsafeMutableBytes { raw -> Bool in
                let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { return false }
                defer { close(fd) }
                return read(fd, raw.baseAddress, raw.count) == raw.count
            }
            if !filled {
                var rng = SystemRandomNumberGenerator()
                buffer.withUnsafeMutableBytes { raw in
                    for i in stride(from: 0, to: raw.count, by: 8) {
                        raw.storeBytes(of: rng.next() as UInt64, toByteOffset: i, as: UInt64.self)
                    }
                }
            }
            used = 0
        }
        let value = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: used, as: UInt64.self) }
        used += 8
        return value
    }
}
