import Yams

/// One thing wrong with a configuration file, where it is: printed as `PATH:LINE:COLUMN: what`
/// (the form compilers use, which editors jump to).
public struct ConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(path: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    init(path: String, at mark: Mark?, message: String) {
        self.init(path: path, line: mark?.line, column: mark?.column, message: message)
    }

    /// A YAML syntax error, at its position.
    init(path: String, yaml error: any Error) {
        guard let error = error as? YamlError else {
            self.init(path: path, message: "not YAML: \(error)")
            return
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text))" } ?? ""
            self.init(path: path, at: mark, message: "not valid YAML: \(problem)\(while_)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            self.init(path: path, at: context.mark, message: "\(keys) \(duplicates.count == 1 ? "is" : "are") given more than once: give each key once (a repeatable flag's values as a list)")
        case .reader(let problem, _, _, _):
            self.init(path: path, message: "not readable as UTF-8 text: \(problem)")
        default:
            self.init(path: path, message: "not valid YAML: \(error)")
        }
    }

    public var description: String {
        var place = path
        if let line { place += ":\(line)" }
        if let line, line > 0, let column { place = "\(path):\(line):\(column)" }
        return "\(place): \(message)"
    }
}

/// Every problem found in one configuration file.
public struct ConfigProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(_ problems: [ConfigProblem]) {
        self.problems = problems
    }

    /// One problem a line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
