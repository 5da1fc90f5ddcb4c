/// Where a socket connection stands, as one value: whether it is greeted, streaming a list,
/// half-closed, stopping or gone, whether reading is paused, and what work is out (runs of adds
/// at the table writer, operations the store has not completed). Its methods take what
/// happened and say what to do; `ConnectionHandler` does it. Requests are answered in order,
/// so a frame waits while anything before it is still out.
struct ConnectionState {
    /// The greeting went out: requests may be handled.
    private(set) var greeted = false
    /// A list is streaming a page at a time; later frames wait for its final line.
    private(set) var streaming = false
    /// The peer half-closed: once everything is answered, the connection closes.
    private(set) var inputClosed = false
    /// The daemon is shutting down: nothing more is read; what was read is answered.
    private(set) var stopping = false
    /// The channel is gone.
    private(set) var closed = false
    /// The socket is not read while many frames wait behind runs of adds.
    private(set) var readingPaused = false
    /// Runs of adds handed to the table writer and not answered yet.
    private(set) var runsAtWriter = 0
    /// Operations handed to the store that have not completed.
    private(set) var operationsOut = 0
    /// A frame that is not an add waits at the head of the queue until every run is answered.
    private(set) var waitingForRuns = false

    /// Runs of adds the table writer may hold for one connection at once: 8,192 adds, two of a
    /// drafting store's commits, so that one connection's bulk load keeps its writer drafting
    /// the next commit while one is written.
    static let submittedRunLimit = 64
    /// Frames held behind runs of adds beyond which the socket is not read until the runs catch
    /// up. The table writer finishes without the client's help, so this never waits on a
    /// client that does not read (replies it leaves unread are buffered, as in Redis).
    static let pendingReadLimit = 4_096

    /// Whether work the connection started is still out.
    var workOut: Bool { runsAtWriter > 0 || operationsOut > 0 }

    /// Whether the next frame may be handled now.
    var accepting: Bool {
        greeted && !closed && !streaming && !waitingForRuns && operationsOut == 0 && runsAtWriter < Self.submittedRunLimit
    }

    // MARK: Reading

    enum FrameAction: Equatable {
        /// Handle the frame now.
        case handle
        /// Queue it behind the frames already waiting.
        case hold
        /// Queue it, and stop reading the socket until the runs out catch up.
        case holdAndPauseReading
    }

    /// A frame arrived while `waiting` frames are queued.
    mutating func frameArrived(waiting: Int) -> FrameAction {
        guard !accepting || waiting > 0 else { return .handle }
        if runsAtWriter > 0 && waiting + 1 >= Self.pendingReadLimit && !readingPaused {
            readingPaused = true
            return .holdAndPauseReading
        }
        return .hold
    }

    /// The queue was drained as far as it may be, leaving `waiting` frames; true when reading
    /// should resume.
    mutating func drained(waiting: Int) -> Bool {
        guard readingPaused, !stopping, runsAtWriter == 0 || waiting < Self.pendingReadLimit / 2 else { return false }
        readingPaused = false
        return true
    }

    /// Whether a frame that is not an add must wait for the runs out (it then heads the queue).
    mutating func mustWaitForRuns() -> Bool {
        guard runsAtWriter > 0 else { return false }
        waitingForRuns = true
        return true
    }

    // MARK: Lifecycle

    mutating func greet() { greeted = true }

    mutating func inputDidClose() { inputClosed = true }

    /// Whether the connection is done and should close: half-closed, greeted, and nothing left
    /// to answer or stream.
    func isIdle(waiting: Int, watching: Bool) -> Bool {
        inputClosed && greeted && !streaming && waiting == 0 && !workOut && !watching
    }

    /// The channel closed; true when the session may end now, false when it must wait for the
    /// work out (none of it may land after the session's routes are let go).
    mutating func channelClosed() -> Bool {
        closed = true
        return !workOut
    }

    /// Shutdown began or goes on; true the first time (stop reading then).
    mutating func shutdownRequested() -> Bool {
        defer { stopping = true }
        return !stopping
    }

    // MARK: Streams

    mutating func streamStarted() { streaming = true }

    /// The stream wrote its final line; true when it was streaming (drain the queue then).
    mutating func streamEnded() -> Bool {
        defer { streaming = false }
        return streaming
    }

    // MARK: Work out

    /// What to do once a piece of work came back.
    enum AfterWork: Equatable {
        /// Answer what waits.
        case drain
        /// Shutdown was waiting for it: go on with it.
        case continueShutdown
        /// The channel closed meanwhile and this was the last work: end the session now.
        case endSession
        /// The channel closed meanwhile; more work is out.
        case nothing
    }

    mutating func runSubmitted() { runsAtWriter += 1 }

    mutating func runAnswered() -> AfterWork {
        runsAtWriter -= 1
        if runsAtWriter == 0 { waitingForRuns = false }
        return afterWork
    }

    mutating func operationStarted() { operationsOut += 1 }

    mutating func operationFinished() -> AfterWork {
        operationsOut -= 1
        return afterWork
    }

    private var afterWork: AfterWork {
        if closed { return workOut ? .nothing : .endSession }
        return stopping ? .continueShutdown : .drain
    }
}
