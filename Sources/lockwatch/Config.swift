// Configuration layers for `lockwatch scan`: the defaults, a `--config` file, `LOCKWATCH_*`
// environment variables, then the command line, each winning over the one before.

import ArgumentParser
import Foundation
import LockwatchCore
import Yams

/// Where each setting of a run came from, for `--print-config`.
struct ConfigLayers {
    struct Setting {
        var value: String
        var source: String
    }

    /// Every option of the scan command, by long name, with its default (from the
    /// ArgumentParser definitions themselves, so that the two never drift apart).
    static let options: [(name: String, short: String?, defaultValue: String?)] = {
        guard let data = Scan._dumpHelp().data(using: .utf8),
              let info = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let command = info["command"] as? [String: Any],
              let arguments = command["arguments"] as? [[String: Any]] else { return [] }
        return arguments.compactMap { a in
            guard a["kind"] as? String == "option", let names = a["names"] as? [[String: Any]],
                  let long = names.first(where: { $0["kind"] as? String == "long" })?["name"] as? String,
                  !notSettings.contains(long) else { return nil }
            let short = names.first { $0["kind"] as? String == "short" }?["name"] as? String
            return (long, short, a["defaultValue"] as? String)
        }
    }()

    /// Options that choose what to do rather than how.
    static let notSettings: Set<String> = ["config"]

    /// The settings as resolved for this run (set once, before parsing, on the main thread).
    nonisolated(unsafe) static var resolved: [String: Setting] = [:]

    /// The environment variable of a setting: `LOCKWATCH_` and the name in capitals.
    static func variable(_ name: String) -> String { "LOCKWATCH_" + name.uppercased().replacingOccurrences(of: "-", with: "_") }

    /// The scan command's arguments with the config file's and the environment's settings put
    /// before the user's own (the last of repeated options wins); records where each came from.
    /// - Throws: `YAMLFileError` (file, line, message) for a config file that cannot be used.
    static func apply(_ args: [String], environment: [String: String]) throws -> [String] {
        // The config file: --config FILE on the command line, else LOCKWATCH_CONFIG.
        var configPath = environment["LOCKWATCH_CONFIG"]
        for (k, a) in args.enumerated() {
            if a == "--config", k + 1 < args.count { configPath = args[k + 1] }
            if a.hasPrefix("--config=") { configPath = String(a.dropFirst("--config=".count)) }
        }
        // With no file, no LOCKWATCH_ variable and no --print-config there is nothing to layer:
        // the table of options (built from the parser's help dump) is not built — it was a
        // fifth of the start-up, which counts on small inputs.
        guard configPath != nil || args.contains("--print-config")
                || environment.keys.contains(where: { $0.hasPrefix("LOCKWATCH_") }) else { return args }
        let names = Set(options.map(\.name))
        var settings: [String: Setting] = [:]
        var injected: [String] = []
        if let path = configPath {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw YAMLFileError(file: path, line: nil, message: "cannot read the config: \(error.localizedDescription)")
            }
            let root: Node?
            do { root = try Yams.compose(yaml: text) } catch let e as YamlError {
                throw YAMLFileError(file: path, yaml: e)
            }
            if let root, root.null == nil {
                guard let m = root.mapping else { throw YAMLFileError(file: path, line: 1, message: "expected a mapping of settings, such as `ttl: 45s`") }
                for (key, value) in m {
                    let name = (key.string ?? "").replacingOccurrences(of: "_", with: "-")
                    guard names.contains(name) else {
                        throw YAMLFileError(file: path, line: key.mark?.line,
                                             message: "unknown setting `\(key.string ?? "?")` (known: \(options.map(\.name).joined(separator: ", ")))")
                    }
                    guard let v = value.string else {
                        throw YAMLFileError(file: path, line: value.mark?.line, message: "\(name): expected a single value")
                    }
                    injected += ["--\(name)", v]
                    settings[name] = Setting(value: v, source: "config \(path):\(key.mark?.line ?? 0)")
                }
            }
        }
        for (name, _, _) in options {
            guard let v = environment[variable(name)] else { continue }
            injected += ["--\(name)", v]
            settings[name] = Setting(value: v, source: "env \(variable(name))")
        }
        let known = Set(options.map { variable($0.name) } + ["LOCKWATCH_CONFIG", "LOCKWATCH_RECORD"])
        for key in environment.keys.sorted() where key.hasPrefix("LOCKWATCH_") && !known.contains(key) {
            Terminal.warn("warning: \(key) is not a setting (known: \(options.map { variable($0.name) }.joined(separator: ", ")))")
        }
        // The command line's own options, to say so.
        var k = 0
        while k < args.count {
            let a = args[k]
            if a == "--" { break }
            for (name, short, _) in options {
                if a == "--\(name)" || (short.map { a == "-\($0)" } ?? false), k + 1 < args.count {
                    settings[name] = Setting(value: args[k + 1], source: "flag \(a)")
                } else if a.hasPrefix("--\(name)=") {
                    settings[name] = Setting(value: String(a.dropFirst(name.count + 3)), source: "flag --\(name)")
                }
            }
            k += 1
        }
        resolved = settings
        return injected + args
    }

    /// The settings, one a line: name, value, where it came from.
    static func describe() -> String {
        let width = (options.map(\.name.count).max() ?? 0) + 2
        return options.map { name, _, defaultValue in
            let s = resolved[name] ?? Setting(value: defaultValue ?? "(none)", source: "default")
            return name.padding(toLength: width, withPad: " ", startingAt: 0) + s.value + "  (" + s.source + ")"
        }.joined(separator: "\n") + "\n"
    }
}
