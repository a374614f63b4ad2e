import Testing

@testable import Gateway

/// Where the status page and the OpenAPI document are looked for, on made-up file trees.
@Suite struct InstallLayoutTests {
    /// A file tree: folders and files by absolute path.
    struct Tree {
        var folders: Set<String> = []
        var files: Set<String> = []

        mutating func addResources(at root: String) {
            folders.insert(root + "/Public")
            files.insert(root + "/openapi/openapi.json")
        }

        func find(executable: String, workingDirectory: String) -> InstallLayout? {
            InstallLayout.find(
                executable: executable, workingDirectory: workingDirectory,
                isDirectory: { folders.contains($0) }, isFile: { files.contains($0) })
        }
    }

    @Test func installLayoutBesideTheBinary() {
        var tree = Tree()
        tree.addResources(at: "/opt/igw/share/invokeai-gateway")
        let found = tree.find(executable: "/opt/igw/bin/invokeai-gateway", workingDirectory: "/")
        #expect(found == InstallLayout(root: "/opt/igw/share/invokeai-gateway", origin: .installLayout))
        #expect(found?.publicDirectory == "/opt/igw/share/invokeai-gateway/Public")
        #expect(found?.openAPIFile == "/opt/igw/share/invokeai-gateway/openapi/openapi.json")
    }

    @Test func installLayoutWinsOverTheSourceTreeOfTheWorkingDirectory() {
        var tree = Tree()
        tree.addResources(at: "/opt/igw/share/invokeai-gateway")
        tree.addResources(at: "/src/gateway")
        tree.files.insert("/src/gateway/Package.swift")
        let found = tree.find(executable: "/opt/igw/bin/invokeai-gateway", workingDirectory: "/src/gateway")
        #expect(found?.origin == .installLayout)
    }

    @Test func aDevelopmentBuildFindsItsSourceTree() {
        var tree = Tree()
        tree.addResources(at: "/src/gateway")
        tree.files.insert("/src/gateway/Package.swift")
        let found = tree.find(
            executable: "/src/gateway/.build/x86_64-unknown-linux-gnu/debug/invokeai-gateway", workingDirectory: "/tmp")
        #expect(found == InstallLayout(root: "/src/gateway", origin: .sourceTreeOfExecutable))
    }

    @Test func aCopiedBinaryFindsTheSourceTreeItIsStartedIn() {
        var tree = Tree()
        tree.addResources(at: "/src/gateway")
        tree.files.insert("/src/gateway/Package.swift")
        let found = tree.find(executable: "/usr/local/bin/invokeai-gateway", workingDirectory: "/src/gateway/workflows")
        #expect(found == InstallLayout(root: "/src/gateway", origin: .sourceTreeOfWorkingDirectory))
    }

    @Test func halfALayoutOrAFolderWithoutPackageSwiftIsNotARoot() {
        var tree = Tree()
        // share/ with the page but no contract; a folder with both but no Package.swift.
        tree.folders.insert("/opt/igw/share/invokeai-gateway/Public")
        tree.addResources(at: "/home/me")
        #expect(tree.find(executable: "/opt/igw/bin/invokeai-gateway", workingDirectory: "/home/me") == nil)
    }
}
