#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Ctrl-C as a flag: commands that run until interrupted (watch, add --session, the shell)
/// poll it between reads instead of dying by the signal.
enum Interrupt {
    private static let flag = Atomic<Bool>(false)

    /// Routes SIGINT and SIGTERM to the flag from now on.
    static func catchSignals() {
        signal(SIGINT) { _ in Interrupt.flag.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in Interrupt.flag.store(true, ordering: .relaxed) }
        // A parent may have started us with these blocked (the mask is inherited).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }

    /// Whether Ctrl-C came since the last `reset`.
    static var isSet: Bool { flag.load(ordering: .relaxed) }

    static func reset() { flag.store(false, ordering: .relaxed) }
}
