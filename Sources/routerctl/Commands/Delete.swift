import ArgumentParser
import RouterClient
import RouterProtocol

struct Delete: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete routes by key, or every route of a tunnel (uuid:ID).",
        usage: "routerctl delete [<options>] <key> ... [--ignore-missing]",
        discussion: """
            Each KEY is deleted on its own (the requests are pipelined); the exit status is the \
            highest of them. A key that is not there exits 1 unless --ignore-missing.

            EXAMPLES:
              routerctl delete foo.example.com
              routerctl delete tcp:49001 '*.apps.example.com'
              routerctl delete uuid:t1 --ignore-missing
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Route keys, or uuid:ID for a whole tunnel.", valueName: "key"),
              completion: .custom(routeKeyCompletion))
    var keys: [String]

    @Flag(help: "Exit 0 when a key is not there (for idempotent scripts).")
    var ignoreMissing = false

    func validate() throws {
        if keys.isEmpty { throw ValidationError("name at least one key to delete") }
    }

    func execute(in context: Context) throws(ClientError) -> Int32 {
        let client = try context.connection()
        var ids: [Int64] = []
        for key in keys { ids.append(try client.send("delete", [("key", .string(key))])) }
        var status = ExitStatus.ok
        var pending = Dictionary(uniqueKeysWithValues: zip(ids.map { JSONValue.number(String($0)) }, keys))
        while !pending.isEmpty {
            let line = try client.read()
            guard let key = pending.removeValue(forKey: line.id) else { continue }
            switch line {
            case .success(_, _, let result):
                guard !context.quiet else { continue }
                switch context.format {
                case .json: context.json(result)
                case .name: context.out(key)
                case .table, .wide:
                    let n = result["deleted"]?.integerValue ?? 0
                    context.out("deleted \(key)" + (n == 1 ? "" : " (\(n) routes)"))
                }
            case .failure(_, let error):
                if ignoreMissing && error.code == .notFound { continue }
                status = max(status, context.report(.daemon(error)))
            default:
                continue
            }
        }
        return status
    }
}
