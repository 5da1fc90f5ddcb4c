#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Ctrl-C (and SIGTERM) as a flag: commands that run until interrupted (watch, add --session,
/// the shell) poll it between reads instead of dying by the signal.
enum Interrupt {
    /// The last signal caught since `reset`, or 0.
    private static let caught = Atomic<Int32>(0)

    /// Routes SIGINT and SIGTERM to the flag from now on.
    static func catchSignals() {
        signal(SIGINT) { _ in Interrupt.caught.store(SIGINT, ordering: .relaxed) }
        signal(SIGTERM) { _ in Interrupt.caught.store(SIGTERM, ordering: .relaxed) }
        // A parent may have started us with these blocked (the mask is inherited).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }

    /// Whether Ctrl-C or SIGTERM came since the last `reset`.
    static var isSet: Bool { caught.load(ordering: .relaxed) != 0 }

    /// Whether SIGTERM came (the shell leaves; Ctrl-C only returns it to the prompt).
    static var isTermination: Bool { caught.load(ordering: .relaxed) == SIGTERM }

    static func reset() { caught.store(0, ordering: .relaxed) }
}
