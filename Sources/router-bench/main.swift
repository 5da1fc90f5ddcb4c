// router-bench: benchmarks that print figures, each beside a baseline run in the same process.
// Run release builds only: `swift run -c release router-bench table`.
import RouterTestSupport
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
    usage: router-bench table [--routes N] [--rounds N]
           router-bench socket [--seconds N] [--threads N]
           router-bench cli [--runs N]
           router-bench watchers [--rounds N] [--adds N] [--watchers N]
           router-bench store [--seconds N] [--rounds N] [--routes N] [--propagations N]
           router-bench store --etcd [--seconds N] [--propagations N]
           router-bench http [--seconds N]
           router-bench persist [--rounds N] [--routes N]
           router-bench gateway [--seconds N] [--rounds N] [--routes N] [--propagations N]
           router-bench dns [--seconds N] [--rounds N] [--names N] [--propagations N]

      table   load N routes (default 1,000,000) and measure lookups, adds, removes and memory
              against a [String: Int] baseline; the last line is one JSON object
      socket  start a routerd on a temporary socket and measure request rates, pipelining,
              a 100,000-route bulk load and expiry latency, beside Redis when installed
      cli     the wall time of one `routerctl lookup` process, beside `redis-cli GET` when installed
      watchers  routerd's resident memory through rounds of watchers that never read during a
              bulk load, against its idle memory
      store   two routerd sharing a table in Redis (and one in memory): propagation from one
              to a watcher on the other, bulk and pipelined adds beside a claim script run by
              redis-benchmark (alternated, medians of --rounds), the same adds in memory and
              with the other routerd stopped, lookups against memory, Redis's memory per
              route; with --etcd, two routerd on a three-member etcd cluster: propagation,
              bulk and pipelined adds beside a plain client's claim transactions, write stall
              when the leader is killed
      http    routerd's HTTP API: lookup, /healthz and add rates over 50 keep-alive connections,
              socket-add-to-SSE-event latency, routerctl --url beside curl
      persist routerd --db beside routerd in memory and SQLite alone writing the same rows:
              100,000 pipelined adds; start-up on a state file of 1,000,000 routes; the file's
              bytes per route
      gateway routergw (access log on and off) beside HAProxy 2.6 routing the same names by a
              map to nginx, under wrk with kept and closed connections: requests/s, p99, CPU
              per request; add-to-first-200 propagation (scripts/install-packages.sh bench)
      dns     routerd's DNS beside NSD serving the same names from a zone file under dnsperf;
              add-to-answer on a BIND 9 secondary (NOTIFY, IXFR) (scripts/install-packages.sh bench)
    """

func option(_ name: String, default value: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let n = Int(arguments[i + 1]) else {
        return value
    }
    return n
}

/// The options each benchmark takes: each with a number, except `--etcd` (alone) and
/// `--profile FILE`.
let options: [String: Set<String>] = [
    "table": ["--routes", "--rounds", "--profile"], "socket": ["--seconds", "--threads"], "cli": ["--runs"],
    "watchers": ["--rounds", "--adds", "--watchers"], "persist": ["--rounds", "--routes"],
    "dns": ["--seconds", "--rounds", "--names", "--propagations"],
    "gateway": ["--seconds", "--rounds", "--routes", "--propagations"],
    "store": ["--seconds", "--rounds", "--routes", "--propagations", "--etcd"], "http": ["--seconds"],
    "store --etcd": ["--seconds", "--propagations", "--etcd"],
]

// `--help` anywhere prints the usage; an option a benchmark does not take, or one without its
// number, is refused before anything starts (a benchmark run on defaults by mistake takes minutes).
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
if let first = arguments.first, case let mode = first == "store" && arguments.contains("--etcd") ? "store --etcd" : first,
   let known = options[mode] {
    var i = 1
    while i < arguments.count {
        let word = arguments[i]
        guard known.contains(word) else {
            fputs("router-bench: \(mode) takes no \(word.hasPrefix("-") ? "option" : "argument") '\(word)' (router-bench --help lists them)\n", stderr)
            exit(64)
        }
        if word != "--etcd" {
            guard i + 1 < arguments.count, word == "--profile" || Int(arguments[i + 1]) != nil else {
                fputs("router-bench: \(word) takes \(word == "--profile" ? "a file" : "a whole number")\(i + 1 < arguments.count ? ", not '\(arguments[i + 1])'" : "")\n", stderr)
                exit(64)
            }
            i += 1
        }
        i += 1
    }
}

// A benchmark that fails says why and exits 1.
do {
    switch arguments.first {
    case "table":
        var bench = TableBenchmark()
        bench.routes = option("--routes", default: bench.routes)
        bench.rounds = option("--rounds", default: bench.rounds)
        if let i = arguments.firstIndex(of: "--profile"), i + 1 < arguments.count { bench.profile = arguments[i + 1] }
        try bench.run()
    case "socket":
        var bench = SocketBenchmark()
        bench.seconds = Double(option("--seconds", default: 3))
        if arguments.contains("--threads") { bench.threads = option("--threads", default: 1) }
        try await bench.run()
    case "cli":
        var bench = CLIBenchmark()
        bench.runs = option("--runs", default: bench.runs)
        try await bench.run()
    case "watchers":
        var bench = WatcherMemoryBenchmark()
        bench.rounds = option("--rounds", default: bench.rounds)
        bench.adds = option("--adds", default: bench.adds)
        bench.watchers = option("--watchers", default: bench.watchers)
        try bench.run()
    case "persist":
        var bench = PersistBenchmark()
        bench.rounds = option("--rounds", default: bench.rounds)
        bench.routes = option("--routes", default: bench.routes)
        try bench.run()
    case "socket-user-adds":
        // Internal: the user's side of `socket`'s namespace figure (PATH SECONDS PREFIX).
        guard arguments.count == 4, let seconds = Double(arguments[2]) else { throw LaunchError("socket-user-adds PATH SECONDS PREFIX") }
        var bench = SocketBenchmark()
        bench.seconds = seconds
        try bench.userAdds(path: arguments[1], prefix: arguments[3])
    case "plain-adds":
        // Internal: `store`'s pipelined adds at a routerd started by hand (PATH SECONDS PREFIX),
        // for profiling one side of it.
        guard arguments.count == 4, let seconds = Double(arguments[2]) else { throw LaunchError("plain-adds PATH SECONDS PREFIX") }
        let bench = SocketBenchmark(seconds: seconds)
        let rate = try bench.rate(path: arguments[1], connections: 50, depth: 16, RequestTemplate(#"{"op":"add","key":"\#(arguments[3])-{c}-{n}"}"#))
        print(fmt(rate, 0))
    case "bulk-adds":
        // Internal: `persist`'s 100,000 adds over one connection at a routerd started by hand
        // (PATH COUNT PREFIX), for profiling it.
        guard arguments.count == 4, let count = Int(arguments[2]) else { throw LaunchError("bulk-adds PATH COUNT PREFIX") }
        print(fmt(try SocketBenchmark().bulkAdd(path: arguments[1], count: count, prefix: arguments[3]), 3))
    case "dns":
        var bench = DNSBenchmark()
        bench.seconds = option("--seconds", default: bench.seconds)
        bench.rounds = option("--rounds", default: bench.rounds)
        bench.names = option("--names", default: bench.names)
        bench.propagations = option("--propagations", default: bench.propagations)
        try bench.run()
    case "gateway":
        var bench = GatewayBenchmark()
        bench.seconds = option("--seconds", default: bench.seconds)
        bench.rounds = option("--rounds", default: bench.rounds)
        bench.routes = option("--routes", default: bench.routes)
        bench.propagations = option("--propagations", default: bench.propagations)
        try bench.run()
    case "store" where arguments.contains("--etcd"):
        var bench = EtcdStoreBenchmark()
        bench.seconds = Double(option("--seconds", default: 3))
        bench.propagations = option("--propagations", default: bench.propagations)
        try bench.run()
    case "store":
        var bench = StoreBenchmark()
        bench.seconds = Double(option("--seconds", default: 3))
        bench.rounds = option("--rounds", default: bench.rounds)
        bench.routes = option("--routes", default: bench.routes)
        bench.propagations = option("--propagations", default: bench.propagations)
        try bench.run()
    case "http":
        var bench = HTTPBenchmark()
        bench.seconds = Double(option("--seconds", default: 3))
        try bench.run()
    default:
        fputs(usage + "\n", stderr)
        exit(64)
    }
} catch {
    fputs("router-bench: \(error)\n", stderr)
    exit(1)
}
