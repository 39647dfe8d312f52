// The fuzz targets (`make fuzz SECONDS=N`), one per stage and one for the whole pipeline, in
// one libFuzzer binary: LOCKWATCH_FUZZ_TARGET names the one to run.
//
//   line        one line through decoding and matching: the plain lane and the general path,
//               the rule shortcuts on and off, must make the same record; `explain` runs too.
//   correlator  a sequence of lock records built from the bytes (kinds, times that jump and go
//               back, a few profiles, symbols, holders, hosts, expiries): ordering, pairing and
//               the correlator with a tiny --max-keys, and the same run saved and restored at a
//               point the bytes choose (`--state`), must decide the same events.
//   printers    events and a summary whose names are the bytes: every NDJSON line must parse
//               as JSON, and no control byte may reach the text output or the reports unescaped.
//   pipeline    a log through the whole threaded pipeline, with and without the fast paths:
//               the same output (slow: thousands of lines per input).
//
// Any crash, hang, sanitizer report or difference is a finding.

import Foundation
@testable import LockwatchCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    switch target {
    case "line": LineTarget.run(bytes)
    case "correlator": CorrelatorTarget.run(bytes)
    case "printers": PrinterTarget.run(bytes)
    default: PipelineTarget.run(bytes)
    }
    return 0
}

let target = ProcessInfo.processInfo.environment["LOCKWATCH_FUZZ_TARGET"] ?? "pipeline"

// SwiftPM links an executable target's entry point as `<target>_main`; with
// -parse-as-library there is none, so this one hands over to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(_ argc: UnsafeMutablePointer<CInt>,
                       _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                       _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("lockwatch_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runDriver(&argc, &argv) { fuzz($0, $1) }
}
