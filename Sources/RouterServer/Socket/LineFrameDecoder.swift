import NIOCore
import RouterEngine
import RouterProtocol

/// What the decoder hands the connection: a line, or the news that one was too long.
enum InboundFrame {
    case line(ByteBuffer)
    case tooLarge
}

/// NIO's side of `LineFraming`: splits on `\n`, answers an over-long line once and skips it.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = InboundFrame

    let maximumLength: Int
    private var skipping = false

    init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let skipping = self.skipping
        let maximumLength = self.maximumLength
        let frame = buffer.withUnsafeReadableBytes {
            LineFraming.next(in: $0, maximumLength: maximumLength, skipping: skipping)
        }
        switch frame {
        case .line(let content, let consumed):
            let line = buffer.getSlice(at: buffer.readerIndex + content.lowerBound, length: content.count)!
            buffer.moveReaderIndex(forwardBy: consumed)
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        case .tooLarge(let consumed, let finished):
            buffer.moveReaderIndex(forwardBy: consumed)
            self.skipping = !finished
            context.fireChannelRead(wrapInboundOut(.tooLarge))
            return .continue
        case .skipped(let consumed, let finished):
            buffer.moveReaderIndex(forwardBy: consumed)
            self.skipping = !finished
            return finished ? .continue : .needMoreData
        case .needMore:
            return .needMoreData
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        let state = try decode(context: context, buffer: &buffer)
        // A last line without its newline is a request when the client half-closed (it is done
        // sending, as `printf '...' | socat` is) while the channel is still open. When the
        // connection closes instead (shutdown, a reset), the bytes are an unfinished line.
        if state == .needMoreData && seenEOF && context.channel.isActive && buffer.readableBytes > 0 && !skipping {
            var content = buffer.readSlice(length: buffer.readableBytes)!
            if content.getInteger(at: content.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                content.moveWriterIndex(to: content.writerIndex - 1)
            }
            context.fireChannelRead(wrapInboundOut(.line(content)))
            return .continue
        }
        return state
    }
}
