import NIOCore

/// One side of a byte splice between two channels on the same event loop (TLS pass-through,
/// TCP routes, an upgraded HTTP connection): what one side reads the other writes, untouched.
///
/// Back-pressure: a side reads only while its partner can take writes, so a slow reader on
/// one side stops the other side's reads instead of filling memory. A half-close is passed
/// on as a half-close (TCP's FIN), and a close or error on either side closes both.
final class SpliceHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: SpliceHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var inputClosed = false
    /// What this side read before the partner was in its pipeline (SwiftNIO reads a
    /// connection's last bytes when its FIN arrives, whether or not a read was asked for).
    private var held: [ByteBuffer] = []
    private var heldFIN = false
    private var outputClosed = false
    /// Bytes moved from this side to the partner (for the log line at close).
    private(set) var bytesIn = 0
    private var onClose: ((_ bytesIn: Int) -> Void)?

    private init(onClose: ((Int) -> Void)?) { self.onClose = onClose }

    /// Two handlers joined to each other: add the first to one channel's pipeline and the
    /// second to the other's. `onClose` runs once, when the first side closes, with the
    /// bytes each side read.
    static func pair(onClose: ((_ fromFirst: Int, _ fromSecond: Int) -> Void)? = nil) -> (SpliceHandler, SpliceHandler) {
        let first = SpliceHandler(onClose: nil)
        let second = SpliceHandler(onClose: nil)
        first.partner = second
        second.partner = first
        if let onClose {
            first.onClose = { [unowned second] bytes in onClose(bytes, second.bytesIn) }
        }
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        partner?.partnerJoined()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private var partnerWritable: Bool { partner?.context?.channel.isWritable ?? false }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        bytesIn += bytes.readableBytes
        if partner?.context == nil {
            held.append(bytes)
        } else {
            partner?.write(bytes)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.resumeReading() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            inputClosed = true
            if partner?.context == nil { heldFIN = true } else { partner?.closeOutput() }
            if outputClosed {
                // Output already closing: close once what was written has gone.
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated().whenComplete { _ in
                    self.context?.close(promise: nil)
                }
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose?(bytesIn)
        onClose = nil
        partner?.closeBoth()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
        partner?.closeBoth()
    }

    func read(context: ChannelHandlerContext) {
        if partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }

    /// No log line at close: the connection was refused and said so already.
    func cancelReport() {
        onClose = nil
    }

    // MARK: What the partner asks of this side

    /// The partner is in its pipeline now: pass on what was held, and read again.
    private func partnerJoined() {
        guard let partner else { return }
        if !held.isEmpty {
            for bytes in held { partner.write(bytes) }
            held = []
            partner.flush()
        }
        if heldFIN {
            heldFIN = false
            partner.closeOutput()
        }
        if partnerWritable { resumeReading() }
    }

    private func write(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
    }

    private func flush() {
        context?.flush()
    }

    private func resumeReading() {
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    /// Sends FIN once everything written before has gone out (an empty write completes after
    /// every earlier one), or closes when this side's input is closed too: SwiftNIO would
    /// turn an output close on such a channel into a full close that drops pending writes.
    private func closeOutput() {
        guard let context, !outputClosed else { return }
        outputClosed = true
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated().whenComplete { _ in
            guard let context = self.context else { return }
            if self.inputClosed {
                context.close(promise: nil)
            } else {
                context.close(mode: .output, promise: nil)
            }
        }
    }

    private func closeBoth() {
        let context = self.context
        partner = nil
        context?.close(promise: nil)
    }
}
