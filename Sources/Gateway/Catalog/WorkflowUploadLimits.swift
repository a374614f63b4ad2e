/// Bounds of the workflow definitions uploaded through `PUT /v1/workflows/{name}/definition`.
/// The folder is counted whole (files the operator put there too): it is what fills the disk.
public struct WorkflowUploadLimits: Sendable, Equatable {
    /// One definition's body, in bytes (413 beyond).
    public var maxDefinitionBytes: Int
    /// Workflow files in the folder (507 beyond).
    public var maxFiles: Int
    /// Bytes of every workflow file in the folder together (507 beyond).
    public var maxTotalBytes: Int

    public init(maxDefinitionBytes: Int = 4 << 20, maxFiles: Int = 1_000, maxTotalBytes: Int = 256 << 20) {
        self.maxDefinitionBytes = maxDefinitionBytes
        self.maxFiles = maxFiles
        self.maxTotalBytes = maxTotalBytes
    }
}
