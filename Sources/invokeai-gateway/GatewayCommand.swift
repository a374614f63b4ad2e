import ArgumentParser
import Gateway

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invokeai-gateway",
        abstract: "A local HTTP gateway that turns InvokeAI GUI workflows into REST endpoints.",
        // `--version`, also after a subcommand (`serve --version`).
        version: "invokeai-gateway \(BuildInfo.version) (\(BuildInfo.commit))",
        subcommands: [ServeCommand.self, KeysCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
