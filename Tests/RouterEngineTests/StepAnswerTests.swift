import DomainRouter
import RouterEngine
import Testing

/// A drafting store's answers: each step's own outcome is handed on; any other stops the process
/// (rather than never calling the client's completion).
@Suite("Drafting store answers")
struct StepAnswerTests {
    @Test func aStepsOwnOutcomeIsItsAnswer() throws {
        #expect(StepAnswer.added([.added([])]).isEmpty)
        #expect(try StepAnswer.deleted([.deleted(.success([]))]).get().isEmpty)
        #expect(try StepAnswer.moved([.moved(3)]).get() == 3)
        #expect(throws: RouteError.self) { try StepAnswer.moved([.failed(.notFound("gone"))]).get() }
    }

    @Test func anOutcomeOfAnotherKindStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            _ = StepAnswer.added([.deleted(.success([]))])
        }
        await #expect(processExitsWith: .failure) {
            _ = StepAnswer.batch([])
        }
        await #expect(processExitsWith: .failure) {
            _ = StepAnswer.moved([.expired(0)])
        }
    }
}
