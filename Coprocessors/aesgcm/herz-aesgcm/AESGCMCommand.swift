import ArgumentParser

/// `herz-aesgcm`: the AES-GCM coprocessor (`serve`, the default) and the command-line modes that
/// seal and open the same format (`seal`, `open`).
struct AESGCMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herz-aesgcm",
        abstract: "Herz's AES-GCM coprocessor: streamed authenticated encryption of bodies, headers and cookies.",
        discussion: "Format and settings: docs/aes-gcm-format.md.",
        subcommands: [Serve.self, Seal.self, Open.self],
        defaultSubcommand: Serve.self
    )

    /// The build announced in the handshake.
    static let buildVersion = "1"
}

/// `--keys FILE`, shared by every mode.
struct KeysArgument: ParsableArguments {
    @Option(name: .long, help: "Key file (JSON: {\"active\": ID, \"keys\": {ID: base64}}).")
    var keys: String
}
