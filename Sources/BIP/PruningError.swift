import Runtime

/// A pruning request that cannot be carried out, with what is possible instead.
public struct PruningError: InputError, Equatable {
    public let description: String

    public init(_ description: String) { self.description = description }
}
