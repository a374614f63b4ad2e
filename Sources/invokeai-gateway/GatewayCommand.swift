import ArgumentParser

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invokeai-gateway",
        abstract: "A local HTTP gateway that turns InvokeAI GUI workflows into REST endpoints.",
        subcommands: [ServeCommand.self, KeysCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
