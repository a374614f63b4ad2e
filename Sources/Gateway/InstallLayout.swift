import Foundation

/// Where the files the gateway serves (the status page, the OpenAPI document) are found when no
/// flag or environment variable names them, so the binary works from any working directory.
///
/// A folder holding `Public/` and `openapi/openapi.json` is a resource root. Looked for, in order:
/// 1. the install layout beside the executable's real path: `<prefix>/bin/invokeai-gateway` with
///    `<prefix>/share/invokeai-gateway/` (what scripts/release ships);
/// 2. the source tree the executable was built in (a folder above it with `Package.swift`): a
///    development build under `.build/`;
/// 3. the source tree holding the working directory (the executable copied elsewhere).
///
/// Files beside the binary rather than embedded in it: the status page and the contract stay plain
/// files an operator can read, and the ones the tests and scripts/check-openapi use are the ones served.
public struct InstallLayout: Equatable, Sendable {
    public enum Origin: String, Sendable {
        case installLayout = "install layout beside the executable"
        case sourceTreeOfExecutable = "source tree the executable was built in"
        case sourceTreeOfWorkingDirectory = "source tree of the working directory"
    }

    public let root: String
    public let origin: Origin
    public var publicDirectory: String { (root as NSString).appendingPathComponent("Public") }
    public var openAPIFile: String { (root as NSString).appendingPathComponent("openapi/openapi.json") }

    /// The share folder under an install prefix.
    public static let sharePath = "share/invokeai-gateway"

    /// The first resource root for an executable at `executable` (its real path) started in
    /// `workingDirectory`; nil when there is none. `isDirectory`/`isFile` look at the file system
    /// (parameters so the search is tested on made-up trees).
    public static func find(
        executable: String, workingDirectory: String,
        isDirectory: (String) -> Bool = InstallLayout.isDirectory, isFile: (String) -> Bool = InstallLayout.isFile
    ) -> InstallLayout? {
        func holdsResources(_ root: String) -> Bool {
            let layout = InstallLayout(root: root, origin: .installLayout)
            return isDirectory(layout.publicDirectory) && isFile(layout.openAPIFile)
        }
        func sourceTree(above start: String) -> String? {
            var folder = start
            while true {
                if isFile((folder as NSString).appendingPathComponent("Package.swift")), holdsResources(folder) {
                    return folder
                }
                let parent = (folder as NSString).deletingLastPathComponent
                if parent == folder || parent.isEmpty { return nil }
                folder = parent
            }
        }
        let binFolder = (executable as NSString).deletingLastPathComponent
        let prefix = (binFolder as NSString).deletingLastPathComponent
        let share = (prefix as NSString).appendingPathComponent(sharePath)
        if holdsResources(share) { return InstallLayout(root: share, origin: .installLayout) }
        if let tree = sourceTree(above: binFolder) { return InstallLayout(root: tree, origin: .sourceTreeOfExecutable) }
        if let tree = sourceTree(above: workingDirectory) {
            return InstallLayout(root: tree, origin: .sourceTreeOfWorkingDirectory)
        }
        return nil
    }

    /// The running executable's real path (symbolic links resolved: a link in /usr/local/bin to
    /// /opt/invokeai-gateway/bin/invokeai-gateway finds /opt/invokeai-gateway/share).
    public static func currentExecutable() -> String {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        let invoked = Bundle.main.executablePath ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: invoked).resolvingSymlinksInPath().path
    }

    public static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    public static func isFile(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && !directory.boolValue
    }
}
