import Kernels

/// The arithmetic of a model's projections (q/k/v, o, gate/up, down). `fp32`, the default, is
/// exact: Float32 weights and activations through OpenBLAS sgemm. `bf16` rounds the weights and
/// each product's activations to BF16 and sums in Float32 (oneDNN's AVX-512 BF16 matmul): faster
/// at 7B shapes, at a measured cost in accuracy (docs/evaluation-protocol.md). Attention, norms,
/// the embedding and the LM head stay Float32 either way.
public enum ComputePrecision: String, Codable, Sendable, CaseIterable {
    case fp32, bf16

    /// Whether this machine can run it (`bf16` needs oneDNN's BF16 matmul: AVX-512).
    public var isAvailable: Bool { self == .fp32 || BFloat16Matmul.isAvailable }
}

/// `--compute bf16` where oneDNN has no BF16 matmul for the CPU (it needs AVX-512).
public struct ComputeUnavailable: InputError {
    public let compute: ComputePrecision
    public let reason: String

    public var description: String { "--compute \(compute.rawValue) is not available on this machine: \(reason)" }
}

extension LlamaModel {
    /// Prepares the model's projections for `compute`, one layer at a time so that, when this
    /// copy of the model is the only one, a 2-byte model's memory does not double: `bf16` packs
    /// each weight for oneDNN and drops its other form; `fp32` leaves the model as it is.
    public mutating func prepare(for compute: ComputePrecision) throws {
        guard compute == .bf16 else { return }
        do {
            for l in layers.indices {
                layers[l].qkv.weight = try layers[l].qkv.weight.packedForBFloat16()
                layers[l].output.weight = try layers[l].output.weight.packedForBFloat16()
                layers[l].gateUp.weight = try layers[l].gateUp.weight.packedForBFloat16()
                layers[l].down.weight = try layers[l].down.weight.packedForBFloat16()
            }
        } catch let error as OneDNNError {
            throw ComputeUnavailable(compute: compute, reason: error.description)
        }
    }
}
