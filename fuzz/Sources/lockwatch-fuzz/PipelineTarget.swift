import LockwatchCore

/// A log through the whole pipeline, twice: with the fast paths (the plain lane and the rule
/// shortcuts) and without; both must print the same.
enum PipelineTarget {
    static func run(_ data: UnsafeRawBufferPointer) {
        if output(data, fast: true) != output(data, fast: false) {
            fatalError("the fast paths (plain lane, rule shortcuts) and the general decoder and matcher disagree on this input")
        }
    }

    private static func output(_ bytes: UnsafeRawBufferPointer, fast: Bool) -> [UInt8] {
        var configuration = Configuration()
        configuration.plainLane = fast
        configuration.ruleShortcuts = fast
        configuration.workers = 1
        let out = MemorySink()
        _ = Pipeline(configuration: configuration, sink: JSONPrinter(out: out))
            .run(sources: [MemorySource(Array(bytes), name: "fuzz")])
        return out.bytes
    }
}
