import NIOCore

/// The flushes of one event loop iteration, made together after it has read every ready
/// connection (as HAProxy sends after its polling pass): a target that gets the requests of
/// many clients in one iteration is woken once for them, not once a request, and so is a
/// client that pipelines; the loop is not handed off to the process it writes to in the middle
/// of a pass over its ready connections.
///
/// Not thread-safe by design: one batch per event loop (`GatewayContext.LoopResources`), used
/// only on it, like the channels it flushes.
final class FlushBatch {
    private let loop: any EventLoop
    private var channels: [any Channel] = []
    private var spare: [any Channel] = []
    private var scheduled = false

    init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Flushes `channel` at the end of this event loop iteration (after the events it is
    /// handling), with every other channel added in the same iteration.
    func add(_ channel: any Channel) {
        channels.append(channel)
        guard !scheduled else { return }
        scheduled = true
        loop.assumeIsolated().execute { self.run() }
    }

    private func run() {
        scheduled = false
        swap(&channels, &spare)
        // A flush may write an answer that adds a channel again: it goes in the next batch.
        for channel in spare { channel.flush() }
        spare.removeAll(keepingCapacity: true)
    }
}
