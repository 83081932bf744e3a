/// A guest program checked against the syscalls the kernel provides and compiled for the
/// kernel's engine, ready to instantiate.
struct LoadedProgram: Sendable {
    /// The guest path it was loaded from.
    let path: String
    let facts: ModuleFacts
    let module: any EngineModule
}
