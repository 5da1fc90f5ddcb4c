import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// One HTTP response as it arrives on AsyncHTTPClient's event loop, handed to a blocking reader
/// on another thread: the head, the body bytes not yet taken, and how it ended.
///
/// Body parts wait in memory up to `highWater` bytes; past that the delegate holds back the
/// connection (its future completes when the reader has taken what waits), so a watch whose
/// printer is slow makes TCP push back on routerd instead of growing here.
final class ResponseStream: HTTPClientResponseDelegate {
    typealias Response = Void

    /// What the reader sees: all of it behind one lock.
    struct State {
        var status: Int?
        var bytes: [UInt8] = []
        var finished = false
        /// Why the exchange failed, said for a person.
        var failure: String?
        /// Completed when the reader takes the bytes (back-pressure; see the type's comment).
        var resume: EventLoopPromise<Void>?
    }

    static let highWater = 1 << 20

    let state = NIOLockedValueBox(State())
    /// 1 when something changed since the reader last looked.
    let news = ConditionLock(value: 0)

    private func update(_ body: (inout State) -> Void) {
        state.withLockedValue(body)
        news.lock()
        news.unlock(withValue: 1)
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        update { $0.status = Int(head.status.code) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        var wait: EventLoopFuture<Void>?
        update { state in
            state.bytes.append(contentsOf: buffer.readableBytesView)
            if state.bytes.count > Self.highWater {
                let promise = task.eventLoop.makePromise(of: Void.self)
                state.resume = promise
                wait = promise.futureResult
            }
        }
        return wait ?? task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        update { state in
            state.failure = HTTPTransport.describe(error)
            state.finished = true
        }
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        update { $0.finished = true }
    }

    /// Waits up to `milliseconds` for news; true when there is some.
    func waitForNews(milliseconds: Int) -> Bool {
        guard news.lock(whenValue: 1, timeoutSeconds: Double(milliseconds) / 1000) else { return false }
        news.unlock(withValue: 0)
        return true
    }

    /// Takes the body bytes that have arrived, and lets the connection go on if it was held.
    func take() -> (status: Int?, bytes: [UInt8], finished: Bool, failure: String?) {
        let (taken, resume) = state.withLockedValue { state in
            let taken = (state.status, state.bytes, state.finished, state.failure)
            state.bytes = []
            let resume = state.resume
            state.resume = nil
            return (taken, resume)
        }
        resume?.succeed()
        return taken
    }
}
