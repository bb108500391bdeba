import ArgumentParser
import HerzCoprocSDK

/// The smallest Swift coprocessor: adds `x-herz-swift-example: 1` to every response's headers.
/// Used by tests and as a template: `herz-coproc-swift-example --listen unix:/run/herz/example.sock`.
struct ExampleFilter: CoprocessorFilter {
    func onResponseHeaders(_ call: CoprocCall) -> AnswerResult {
        .headers(.continue, HeaderMutation(set: [WireHeader("x-herz-swift-example", "1")]))
    }

    var capabilities: [String] { ["phase:response_headers"] }
}

struct Example: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "herz-coproc-swift-example")

    @OptionGroup var coprocessor: CoprocessorArguments

    func run() throws {
        let server = try CoprocessorServer(name: "swift-example", buildVersion: "1", filter: ExampleFilter(),
                                           options: try coprocessor.options())
        try server.run()
    }
}

Example.main()
