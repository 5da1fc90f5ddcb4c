import Logging
import Synchronization

/// Keeps every line logged through its loggers, for tests of what the daemon logs.
public final class LogRecorder: Sendable {
    public struct Line: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    private let lines = Mutex<[Line]>([])

    public var all: [Line] { lines.withLock { $0 } }

    public init() {}

    public func logger(level: Logger.Level) -> Logger {
        var logger = Logger(label: "test") { _ in Handler(recorder: self) }
        logger.logLevel = level
        return logger
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let line = Line(level: event.level, message: event.message.description,
                            metadata: all.mapValues { "\($0)" })
            recorder.lines.withLock { $0.append(line) }
        }
    }
}
