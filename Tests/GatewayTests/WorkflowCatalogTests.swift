import Foundation
import JSONValue
import Logging
import TestSupport
import Testing

@testable import Gateway

/// The catalog on the request path: how often it reads InvokeAI and the folder, and that what
/// changed is seen. Against a counting in-memory upstream.
@Suite struct WorkflowCatalogTests {
    let fake = FakeCatalogUpstream()
    let logger = Logger(label: "catalog-test")

    func folder(_ files: [String: JSONValue] = [:]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, json) in files { try write(json, to: "\(path)/\(name).json") }
        return path
    }

    func write(_ json: JSONValue, to path: String) throws {
        try Data(json.compactJSON.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// The description's ETag changes when only its runnability does (a 304 must never hand back a
    /// stale `runnable`), and starts with the fingerprint a run's If-Match compares.
    @Test func aDescriptionsETagFollowsItsRunnabilityAndStartsWithTheFingerprint() async throws {
        let catalog = WorkflowCatalog(
            directory: try folder(["local": FakeCatalogUpstream.workflow(name: "local")]),
            upstream: fake.upstream, logger: logger)
        let entry = try #require(try await catalog.entries().first { $0.name == "local" })
        let runnable = WorkflowRoutes.detailETag(entry, ["runnable": true, "issues": []])
        let notRunnable = WorkflowRoutes.detailETag(
            entry, ["runnable": false, "issues": [["kind": "unknown_node_type"]]])
        #expect(runnable != notRunnable)
        #expect(runnable.hasPrefix("\"\(entry.workflow.fingerprint)-"))
        #expect(notRunnable.hasPrefix("\"\(entry.workflow.fingerprint)-"))
    }

    @Test func concurrentFirstCallersShareOneSchemaReadAndOneLibraryRead() async throws {
        fake.library.withLock { $0["w1"] = ("From GUI", "t1") }
        fake.openAPIGate.close()
        let catalog = WorkflowCatalog(
            directory: try folder(["local": FakeCatalogUpstream.workflow(name: "local")]),
            upstream: fake.upstream, logger: logger)
        let names = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<20 { group.addTask { try await catalog.entries().map(\.name) } }
            try await eventually { fake.openAPIGate.waiting == 1 }
            fake.openAPIGate.open()
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        #expect(names.count == 20)
        #expect(names.allSatisfy { $0 == ["from-gui", "local"] })
        #expect(fake.count(fake.openAPICalls) == 1)
        #expect(fake.count(fake.pageCalls) == 1)
        #expect(fake.count(fake.recordCalls) == 1)
    }

    @Test func afterInvokeAIReconnectsTheLibraryIsReadAgainAndServedWithoutIO() async throws {
        // Found by bench/e2e: after the event stream reconnected, the library's "first read"
        // found an earlier read finished and read nothing, so library workflows were gone and
        // every request took the slow path, until someone asked for an unknown name.
        fake.library.withLock { $0["w1"] = ("From GUI", "t1") }
        let catalog = WorkflowCatalog(directory: nil, upstream: fake.upstream, logger: logger)
        #expect(try await catalog.entries().map(\.name) == ["from-gui"])
        #expect(catalog.currentWithoutIO() != nil)
        catalog.upstreamChanged()
        #expect(catalog.currentWithoutIO() == nil)
        #expect(try await catalog.entries().map(\.name) == ["from-gui"])
        #expect(fake.count(fake.openAPICalls) == 2)
        #expect(catalog.currentWithoutIO()?.entries.map(\.name) == ["from-gui"])
    }

    @Test func aFailedSchemaReadIsTriedAgainByTheNextCaller() async throws {
        fake.failOpenAPI.withLock { $0 = true }
        let catalog = WorkflowCatalog(directory: nil, upstream: fake.upstream, logger: logger)
        // Unreadable schemas: only the workflow files are listed (none here), marked unchecked.
        #expect(try await catalog.entries().isEmpty)
        fake.failOpenAPI.withLock { $0 = false }
        _ = try await catalog.entries()
        _ = try await catalog.entries()
        #expect(fake.count(fake.openAPICalls) == 2)
    }

    @Test func aStaleLibraryIsServedWhileOneBackgroundReadRefreshesIt() async throws {
        fake.library.withLock { $0["w1"] = ("First", "t1") }
        let catalog = WorkflowCatalog(directory: nil, upstream: fake.upstream, logger: logger, libraryTTL: 0)
        // A read held at the gate would keep the catalog from stopping if the test ended early.
        defer { fake.pageGate.open() }
        try await whileRunning(catalog) {
            #expect(try await catalog.entries().map(\.name) == ["first"])
            fake.pageGate.close()
            fake.library.withLock { $0["w2"] = ("Second", "t1") }
            // Every call finds the library stale; none waits for the read, and only one is started.
            for _ in 0..<50 { #expect(try await catalog.entries().map(\.name) == ["first"]) }
            try await eventually { fake.count(fake.pageCalls) == 2 }
            for _ in 0..<50 { #expect(try await catalog.entries().map(\.name) == ["first"]) }
            #expect(fake.count(fake.pageCalls) == 2)
            fake.pageGate.open()
            try await eventually { catalog.cached("second") != nil }
        }
    }

    @Test func aFreshLibraryIsNotReadAgain() async throws {
        let catalog = WorkflowCatalog(directory: nil, upstream: fake.upstream, logger: logger, libraryTTL: 3600)
        for _ in 0..<100 { _ = try await catalog.entries() }
        #expect(fake.count(fake.pageCalls) == 1)
    }

    @Test func anUnchangedLibraryIsProbedNotListedAgain() async throws {
        fake.library.withLock { $0["w1"] = ("First", "t1") }
        let catalog = WorkflowCatalog(directory: nil, upstream: fake.upstream, logger: logger, libraryTTL: 0)
        try await whileRunning(catalog) {
            _ = try await catalog.entries()
            // Every call finds the library stale; whenever no read is running, one starts.
            for _ in 0..<5 {
                let probes = fake.count(fake.probeCalls)
                for _ in 0..<2000 where fake.count(fake.probeCalls) == probes {
                    _ = try await catalog.entries()
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(fake.count(fake.probeCalls) > probes)
            }
            #expect(fake.count(fake.pageCalls) == 1)
            #expect(fake.count(fake.recordCalls) == 1)
            fake.library.withLock { $0["w1"] = ("Renamed", "t2") }
            for _ in 0..<2000 where catalog.cached("renamed") == nil {
                _ = try await catalog.entries()
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(catalog.cached("renamed") != nil)
            #expect(fake.count(fake.pageCalls) == 2)
            #expect(catalog.cached("first") == nil)
        }
    }

    @Test func anUnknownNameIsLookedUpInALibraryReadStartedAfterTheCall() async throws {
        let catalog = WorkflowCatalog(directory: nil, upstream: fake.upstream, logger: logger, libraryTTL: 3600)
        #expect(try await catalog.entries().isEmpty)
        fake.library.withLock { $0["w9"] = ("Just Saved", "t1") }
        let found = try await catalog.entry("just-saved")
        #expect(found?.source == .library)
        #expect(found?.location == "w9")
        #expect(try await catalog.entry("never-there") == nil)
        // Three reads; the last found the library unchanged by its probe and listed nothing.
        #expect(fake.count(fake.probeCalls) == 3)
        #expect(fake.count(fake.pageCalls) == 2)
    }

    @Test func concurrentUnknownNamesShareLibraryReads() async throws {
        let catalog = WorkflowCatalog(directory: nil, upstream: fake.upstream, logger: logger, libraryTTL: 3600)
        _ = try await catalog.entries()
        fake.library.withLock { $0["w1"] = ("Changed", "t1") } // so each read lists (and waits at the gate)
        fake.pageGate.close()
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<30 { group.addTask { try await catalog.entry("missing") == nil } }
            try await eventually { fake.pageGate.waiting == 1 }
            fake.pageGate.open()
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 30))
        // The first read, then the one all 30 waited for, and at most one more for callers that
        // arrived after it had started.
        #expect(fake.count(fake.probeCalls) <= 3)
    }

    @Test func anUnreadableLibraryLeavesTheFilesAndIsNotRetriedOnEveryCall() async throws {
        fake.failPages.withLock { $0 = true }
        let catalog = WorkflowCatalog(
            directory: try folder(["local": FakeCatalogUpstream.workflow(name: "local")]),
            upstream: fake.upstream, logger: logger, libraryTTL: 3600)
        for _ in 0..<10 { #expect(try await catalog.entries().map(\.name) == ["local"]) }
        #expect(fake.count(fake.pageCalls) == 1)
    }

    @Test func theFolderIsCheckedAtMostOncePerIntervalButANewNameLooksAtOnce() async throws {
        let directory = try folder(["a": FakeCatalogUpstream.workflow(name: "a")])
        let catalog = WorkflowCatalog(
            directory: directory, upstream: fake.upstream, logger: logger,
            libraryTTL: 3600, fileCheckInterval: 3600)
        #expect(try await catalog.entries().map(\.name) == ["a"])
        try write(FakeCatalogUpstream.workflow(name: "b"), to: "\(directory)/b.json")
        #expect(try await catalog.entries().map(\.name) == ["a"]) // not looked at within the interval
        #expect(try await catalog.entry("b")?.source == .file) // but asked for by name: looked at
        #expect(try await catalog.entries().map(\.name) == ["a", "b"])
    }

    /// SIGHUP's reload: the folder is listed now, inside the interval, and says what it holds.
    @Test func reloadFolderReadsTheFolderInsideTheInterval() async throws {
        let directory = try folder(["a": FakeCatalogUpstream.workflow(name: "a")])
        let catalog = WorkflowCatalog(
            directory: directory, upstream: fake.upstream, logger: logger,
            libraryTTL: 3600, fileCheckInterval: 3600)
        #expect(try await catalog.entries().map(\.name) == ["a"])
        try write(FakeCatalogUpstream.workflow(name: "b"), to: "\(directory)/b.json")
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: "\(directory)/broken.json"))
        #expect(try await catalog.entries().map(\.name) == ["a"]) // not looked at within the interval
        let reload = await catalog.reloadFolder()
        #expect(reload.workflows == 2 && reload.checkedAgainstInvokeAI)
        #expect(try await catalog.entries().map(\.name) == ["a", "b"])
        try FileManager.default.removeItem(atPath: "\(directory)/a.json")
        #expect(await catalog.reloadFolder().workflows == 1)
        #expect(try await catalog.entries().map(\.name) == ["b"])
    }

    @Test func aChangedFileIsReadAgainAndARemovedOneIsGone() async throws {
        let directory = try folder(["a": FakeCatalogUpstream.workflow(name: "a", label: "First")])
        let catalog = WorkflowCatalog(
            directory: directory, upstream: fake.upstream, logger: logger,
            libraryTTL: 3600, fileCheckInterval: 0)
        let before = try #require(try await catalog.entry("a"))
        try write(FakeCatalogUpstream.workflow(name: "a", label: "Second"), to: "\(directory)/a.json")
        let after = try #require(try await catalog.entry("a"))
        #expect(before.workflow.inputs.first?.label == "First")
        #expect(after.workflow.inputs.first?.label == "Second")
        try FileManager.default.removeItem(atPath: "\(directory)/a.json")
        #expect(try await catalog.entries().isEmpty)
    }

    @Test func storedAndRemovedDefinitionsAreSeenAtOnce() async throws {
        let directory = try folder()
        let catalog = WorkflowCatalog(
            directory: directory, upstream: fake.upstream, logger: logger,
            libraryTTL: 3600, fileCheckInterval: 3600)
        #expect(try await catalog.entries().isEmpty)
        let stored = try await catalog.store(
            name: "uploaded", definition: FakeCatalogUpstream.workflow(name: "uploaded"))
        #expect(try await catalog.entries().map(\.name) == ["uploaded"])
        try catalog.remove(stored)
        #expect(try await catalog.entries().isEmpty)
    }

    @Test func aFileWinsItsNameOverTheLibrary() async throws {
        fake.library.withLock { $0["w1"] = ("Local", "t1") }
        let catalog = WorkflowCatalog(
            directory: try folder(["local": FakeCatalogUpstream.workflow(name: "local")]),
            upstream: fake.upstream, logger: logger)
        let entries = try await catalog.entries()
        #expect(entries.map(\.name) == ["local", "local-2"])
        #expect(entries.map(\.source) == [.file, .library])
    }

    @Test func anUploadCannotTakeALibraryWorkflowsName() async throws {
        fake.library.withLock { $0["w1"] = ("Portrait", "t1") }
        let directory = try folder()
        let catalog = WorkflowCatalog(directory: directory, upstream: fake.upstream, logger: logger)
        await #expect {
            try await catalog.store(name: "portrait", definition: FakeCatalogUpstream.workflow(name: "mine"))
        } throws: { error in
            guard case WorkflowCatalog.CatalogError.libraryName("portrait", id: "w1") = error else { return false }
            return true
        }
        // Nothing was written, and the library's workflow keeps its name.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        #expect(try await catalog.entry("portrait")?.source == .library)
        // Another name is fine.
        _ = try await catalog.store(name: "my-portrait", definition: FakeCatalogUpstream.workflow(name: "mine"))
        #expect(try await catalog.entries().map(\.name) == ["my-portrait", "portrait"])
    }

    @Test func uploadsStayWithinTheFolderQuota() async throws {
        let directory = try folder(["a": FakeCatalogUpstream.workflow(name: "a")])
        let catalog = WorkflowCatalog(
            directory: directory, upstream: fake.upstream, logger: logger, fileCheckInterval: 0)
        let definition = FakeCatalogUpstream.workflow(name: "b")
        func isQuota(_ error: any Error) -> Bool {
            if case WorkflowCatalog.CatalogError.quotaExceeded = error { return true }
            return false
        }
        // Two files at most: "a" is there, "b" fits, "c" does not; replacing "b" still does.
        let two = WorkflowUploadLimits(maxDefinitionBytes: 1 << 20, maxFiles: 2, maxTotalBytes: 1 << 20)
        _ = try await catalog.store(name: "b", definition: definition, limits: two)
        await #expect { try await catalog.store(name: "c", definition: definition, limits: two) } throws: {
            isQuota($0)
        }
        _ = try await catalog.store(name: "b", definition: definition, limits: two)
        // Bytes in total: the folder's files together.
        func size(_ name: String) throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: "\(directory)/\(name).json")[.size] as? Int)
        }
        // "d" is stored as "b" was: the same size. One byte short of room for it.
        let held = try size("a") + size("b"), stored = try size("b")
        let tight = WorkflowUploadLimits(maxDefinitionBytes: 1 << 20, maxFiles: 100, maxTotalBytes: held + stored - 1)
        await #expect { try await catalog.store(name: "d", definition: definition, limits: tight) } throws: {
            isQuota($0)
        }
        let roomy = WorkflowUploadLimits(maxDefinitionBytes: 1 << 20, maxFiles: 100, maxTotalBytes: held + stored)
        _ = try await catalog.store(name: "d", definition: definition, limits: roomy)
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/c.json"))
    }
}
