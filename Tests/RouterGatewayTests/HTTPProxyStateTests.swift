import NIOCore
import NIOHTTP1
@testable import RouterGateway
import Testing

/// The HTTP proxy's connection state on its own: what it says to do as requests, parse errors,
/// the client's end, the target's close and timers arrive — in the order RFC 9112 asks for.
@Suite("routergw: the HTTP connection's state")
struct HTTPProxyStateTests {
    typealias State = HTTPProxyState

    static func head(_ uri: String = "/") -> HTTPServerRequestPart {
        .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: uri))
    }

    static func exchange(requestEnded: Bool = false, responseStarted: Bool = false) -> State.Exchange {
        var exchange = State.Exchange(key: "a.example.com", method: .GET, version: .http1_1, keepAlive: true, started: .now())
        exchange.requestEnded = requestEnded
        exchange.responseStarted = responseStarted
        return exchange
    }

    /// Takes the next thing to handle; fails the test unless it is a request part.
    static func nextPart(_ state: inout State) -> HTTPServerRequestPart? {
        guard case .handle(.part(let part)) = state.next() else { return nil }
        return part
    }

    @Test func aPipelinedRequestWaitsUntilTheOneBeforeItIsAnswered() {
        var state = State()
        state.arrived(.part(Self.head("/1")))
        state.arrived(.part(.end(nil)))
        state.arrived(.part(Self.head("/2")))
        #expect(Self.nextPart(&state) != nil)
        state.headArrived()
        state.forwarding(Self.exchange())
        #expect(Self.nextPart(&state) == .end(nil), "the open request's own end is handled at once")
        let action1 = state.endArrived(.end(nil))
        #expect(action1 == .forward(awaitingResponse: true))
        guard case .wait = state.next() else { Issue.record("the second request waits for the first's response"); return }
        #expect(!state.nothingWaiting)
        state.idle()
        guard case .handle(.part(.head(let second))) = state.next() else { Issue.record("then it is handled"); return }
        #expect(second.uri == "/2")
    }

    @Test func aParseErrorBetweenRequestsIsAnsweredAfterTheRequestBeforeIt() {
        var state = State()
        state.arrived(.part(Self.head()))
        state.arrived(.part(.end(nil)))
        state.arrived(.malformed)
        _ = Self.nextPart(&state)
        state.headArrived()
        state.forwarding(Self.exchange())
        _ = Self.nextPart(&state)
        _ = state.endArrived(.end(nil))
        guard case .wait = state.next() else { Issue.record("the 400 waits for the 200 before it"); return }
        state.idle()
        guard case .handle(.malformed) = state.next() else { Issue.record("then it is handled"); return }
        let action2 = state.malformed()
        #expect(action2 == .answerAndClose)
    }

    @Test func aParseErrorInsideARequestAnswersItOrCutsItsResponse() {
        var state = State()
        state.headArrived()
        state.forwarding(Self.exchange())
        guard case .answerError(let exchange) = state.malformed() else { Issue.record("a 400 for the request"); return }
        #expect(!exchange.keepAlive && !state.requestOpen)

        var started = State()
        started.headArrived()
        started.forwarding(Self.exchange(responseStarted: true))
        guard case .cut = started.malformed() else { Issue.record("a response under way is cut"); return }
        guard case .closing = started.phase else { Issue.record("and the connection closes"); return }
    }

    @Test func theClientsEndMidRequestIsAMalformedRequestAndBetweenRequestsAClose() {
        var state = State()
        state.headArrived()
        state.forwarding(Self.exchange())
        guard case .malformed(.answerError(let exchange)) = state.inputEnded() else { Issue.record("mid-request: a 400"); return }
        #expect(!exchange.keepAlive)
        var idle = State()
        let action3 = idle.inputEnded()
        #expect(action3 == .close)
        guard case .closing = idle.phase else { Issue.record("closing"); return }
    }

    @Test func aClosingConnectionDropsWhatArrivesAndClosesOnceTheClientDoes() {
        var state = State()
        state.closing()
        state.arrived(.part(Self.head()))
        guard case .wait = state.next() else { Issue.record("nothing is read as a request"); return }
        #expect(state.nothingWaiting)
        state.arrived(.part(Self.head()))
        state.arrived(.inputClosed)
        guard case .closeAfterLastWrite = state.next() else { Issue.record("the client's end ends the linger"); return }
    }

    @Test func closingSaysWhetherTheClientMayStillBeSending() {
        var open = State()
        open.headArrived()
        let action4 = open.closing()
        #expect(action4, "a request was open")
        var waiting = State()
        waiting.arrived(.part(Self.head()))
        let action5 = waiting.closing()
        #expect(action5, "something waited")
        var quiet = State()
        let action6 = quiet.closing()
        #expect(!action6)
    }

    @Test func bodyPartsAreKeptWhileConnectingForwardedAfterAndDroppedWhenRefused() {
        var state = State()
        state.headArrived()
        state.connecting(Self.exchange(), sending: [])
        let body = HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: "x")))
        let action7 = state.bodyArrived(body)
        #expect(action7 == .buffered)
        let action8 = state.endArrived(.end(nil))
        #expect(action8 == .buffered)
        guard case let (exchange, parts)? = state.connected() else { Issue.record("connected"); return }
        #expect(exchange.requestEnded && parts.count == 2)
        let action9 = state.bodyArrived(body)
        #expect(action9 == .forward)

        var refused = State()
        refused.headArrived()
        refused.refused()
        let action10 = refused.bodyArrived(body)
        #expect(action10 == .drop)
        let action11 = refused.endArrived(.end(nil))
        #expect(action11 == .refusalRead)
        #expect(refused.isIdle)
    }

    @Test func aConnectionThatFinishesAfterTheExchangeMovedOnIsNotUsed() {
        var state = State()
        state.connecting(Self.exchange(), sending: [])
        state.answered(requestEnded: false)
        let action12 = state.connected()
        #expect(action12 == nil)
    }

    @Test func theTargetClosingSendsAgainOnceCutsOrAnswers502() {
        var state = State()
        state.forwarding(Self.exchange())
        let action13 = state.upstreamClosed(canSendAgain: true)
        #expect(action13 == .sendAgain(Self.exchangeLike(state)))
        let action14 = state.upstreamClosed(canSendAgain: false)
        #expect(action14 == .badGateway(Self.exchangeLike(state)))
        var started = State()
        started.forwarding(Self.exchange(responseStarted: true))
        guard case .cut = started.upstreamClosed(canSendAgain: true) else { Issue.record("a response under way is cut"); return }
        var idle = State()
        let action15 = idle.upstreamClosed(canSendAgain: true)
        #expect(action15 == .ignore)
    }

    static func exchangeLike(_ state: State) -> State.Exchange { state.exchange ?? exchange() }

    @Test func timersAnswer504WhileWaitingForAResponseAndCloseAnIdleConnection() {
        var waiting = State()
        waiting.forwarding(Self.exchange(requestEnded: true))
        guard case .gatewayTimeout = waiting.timerFired() else { Issue.record("504"); return }
        var streaming = State()
        streaming.forwarding(Self.exchange(requestEnded: true, responseStarted: true))
        let action16 = streaming.timerFired()
        #expect(action16 == .ignore, "a response under way is not timed out")
        var idle = State()
        let action17 = idle.timerFired()
        #expect(action17 == .close)
        guard case .closing = idle.phase else { Issue.record("closing"); return }
    }

    @Test func inactiveHandsOverTheExchangeATargetHadForTheLog() {
        var state = State()
        state.forwarding(Self.exchange())
        state.arrived(.part(Self.head()))
        let action18 = state.inactive()
        #expect(action18 != nil)
        #expect(state.nothingWaiting)
        var idle = State()
        let action19 = idle.inactive()
        #expect(action19 == nil)
    }
}
