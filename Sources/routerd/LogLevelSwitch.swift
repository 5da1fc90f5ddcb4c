import Logging
import Synchronization

/// The log level of every logger in routerd, which a reload (SIGHUP with a changed `log-level`)
/// moves at once: each handler reads it as it decides whether to write a line.
final class LogLevelSwitch: Sendable {
    private let index: Atomic<Int>

    init(_ level: Logger.Level) {
        index = Atomic(Self.levels.firstIndex(of: level) ?? 0)
    }

    var level: Logger.Level {
        get { Self.levels[index.load(ordering: .relaxed)] }
        set { index.store(Self.levels.firstIndex(of: newValue) ?? 0, ordering: .relaxed) }
    }

    private static let levels = Logger.Level.allCases
}

/// swift-log's stream handler at the switch's level, unless a logger set its own (`logLevel = …`
/// on one logger stays that logger's).
struct SwitchedLogHandler: LogHandler {
    var stream: StreamLogHandler
    let shared: LogLevelSwitch
    var own: Logger.Level?

    init(label: String, shared: LogLevelSwitch) {
        stream = StreamLogHandler.standardError(label: label)
        self.shared = shared
    }

    var logLevel: Logger.Level {
        get { own ?? shared.level }
        set { own = newValue }
    }

    var metadata: Logger.Metadata {
        get { stream.metadata }
        set { stream.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { stream[metadataKey: key] }
        set { stream[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        stream.log(event: event)
    }
}
