import NIOCore

/// The keys and arguments of a script call, written as RESP bulk strings as they are appended:
/// for a caller with many or large arguments (a commit of hundreds of changes), which would
/// otherwise make a String of each only for it to be copied into the request.
///
/// The bytes go out as they are, after the command's head (`EVALSHA`, the script's SHA1, the
/// number of keys), which `RedisClient.submit(_:arguments:)` writes.
public struct RedisScriptArguments: Sendable {
    var buffer: ByteBuffer
    /// How many keys the call names (the first words appended).
    let keyCount: Int
    /// How many words (keys and arguments) are written.
    private(set) var count = 0

    /// Arguments after `keys`, with room for `capacity` bytes of them before the buffer grows.
    public init(keys: [String], capacity: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
        keyCount = keys.count
        for key in keys { append(key) }
    }

    /// Appends a word of text, as its UTF-8.
    public mutating func append(_ word: String) {
        RESPEncoder.bulkString(word, into: &buffer)
        count += 1
    }

    /// Appends a word of bytes.
    public mutating func append(bytes word: UnsafeRawBufferPointer) {
        RESPEncoder.bulkString(bytes: word, into: &buffer)
        count += 1
    }

    /// Appends a number (not negative), as its decimal digits.
    public mutating func append(_ number: Int) {
        precondition(number >= 0, "a script argument written as a number is negative")
        RESPEncoder.header(UInt8(ascii: "$"), RESPEncoder.decimalLength(number), into: &buffer)
        RESPEncoder.writeDecimal(number, into: &buffer)
        buffer.writeStaticString("\r\n")
        count += 1
    }
}
