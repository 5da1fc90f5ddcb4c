#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The protocol's line framing, shared by the daemon's decoder and the clients.
///
/// Lines end at `\n` only (a `\r` before it is dropped). A line longer than the limit is
/// answered once with `too_large` and skipped up to its newline while the connection goes on.
/// Hand-written: NIOCore's `splitLines` also splits on CR, VT, FF and Unicode separators and
/// ends the stream on overflow; swift-nio-extras' `LineBasedFrameDecoder` closes on overflow.
public enum LineFraming {
    /// What the front of a buffer holds.
    public enum Frame: Equatable, Sendable {
        /// A complete line: its bytes are `content` (no `\n`, no trailing `\r`); consume `consumed`.
        case line(content: Range<Int>, consumed: Int)
        /// An over-long line began (answer `too_large` once); consume `consumed` bytes. When
        /// `finished` is false its newline has not arrived yet: keep skipping.
        case tooLarge(consumed: Int, finished: Bool)
        /// Bytes of an over-long line already answered; consume them, still skipping unless `finished`.
        case skipped(consumed: Int, finished: Bool)
        /// No complete line yet.
        case needMore
    }

    /// Finds the next frame at the start of `bytes`. `skipping` says whether an over-long line
    /// is being skipped (the caller keeps it between calls).
    public static func next(in bytes: UnsafeRawBufferPointer, maximumLength: Int, skipping: Bool) -> Frame {
        guard !bytes.isEmpty else { return .needMore }
        let newline = memchr(bytes.baseAddress!, 0x0A, bytes.count).map { bytes.baseAddress!.distance(to: UnsafeRawPointer($0)) }
        if skipping {
            if let newline { return .skipped(consumed: newline + 1, finished: true) }
            return .skipped(consumed: bytes.count, finished: false)
        }
        if let newline {
            var end = newline
            if end > 0 && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            if end > maximumLength { return .tooLarge(consumed: newline + 1, finished: true) }
            return .line(content: 0..<end, consumed: newline + 1)
        }
        // No newline yet: a line is too long once it cannot fit even with a trailing "\r".
        if bytes.count > maximumLength + 1 { return .tooLarge(consumed: bytes.count, finished: false) }
        return .needMore
    }
}
