import Kernels

/// The arithmetic of a model's projections (q/k/v, o, gate/up, down). `fp32`, the default, is
/// exact: Float32 weights and activations, through oneDNN's AVX-512 matmul with the weights packed
/// once where the CPU has it, else OpenBLAS sgemm (the same arithmetic; the sums go in another
/// order). `bf16` rounds the weights and each product's activations to BF16 and sums in Float32
/// (oneDNN's AVX-512 BF16 matmul): faster at 7B shapes, at a measured cost in accuracy
/// (docs/evaluation-protocol.md). Attention, norms, the embedding and the LM head stay Float32
/// either way.
public enum ComputePrecision: String, Codable, Sendable, CaseIterable {
    case fp32, bf16

    /// Whether this machine can run it (`bf16` needs oneDNN's BF16 matmul: AVX-512).
    public var isAvailable: Bool { self == .fp32 || PackedMatmul.isAvailable(.bfloat16) }
}

/// `--compute bf16` where oneDNN has no BF16 matmul for the CPU (it needs AVX-512).
public struct ComputeUnavailable: InputError {
    public let compute: ComputePrecision
    public let reason: String

    public var description: String { "--compute \(compute.rawValue) is not available on this machine: \(reason)" }
}

extension LlamaModel {
    /// Prepares the model's projections for evaluation in `compute`, one layer at a time so that,
    /// when this copy of the model is the only one, its memory does not double: each weight is
    /// packed for oneDNN and its other form dropped. `bf16` packs every weight as BF16; `fp32`
    /// packs the Float32 weights where the CPU has oneDNN's AVX-512 matmul (2-byte weights stay
    /// 2-byte: widened, they would take twice the memory) and otherwise leaves the model as it is.
    /// In both, the LM head gets a packed Float32 copy (`packedHead`) where the CPU has that matmul.
    public mutating func prepare(for compute: ComputePrecision) throws {
        let operands: PackedMatmul.Operands = compute == .fp32 ? .float32 : .bfloat16
        if !PackedMatmul.isAvailable(operands) && compute == .bf16 {
            throw ComputeUnavailable(compute: compute, reason: "oneDNN's BF16 matmul needs AVX-512, which this CPU lacks")
        }
        func pack(_ weight: inout WeightMatrix) throws {
            guard PackedMatmul.isAvailable(operands), compute == .bf16 || weight.element == .float32 else { return }
            weight = try weight.packed(for: operands)
        }
        do {
            // The LM head's tiles, in Float32 in both precisions.
            if packedHead == nil && PackedMatmul.isAvailable(.float32) {
                packedHead = try PackedHead(lmHead ?? tokenEmbedding, vocabularySize: config.vocabularySize, hiddenSize: config.hiddenSize)
            }
            for l in layers.indices {
                try pack(&layers[l].qkv.weight)
                try pack(&layers[l].output.weight)
                try pack(&layers[l].gateUp.weight)
                try pack(&layers[l].down.weight)
            }
        } catch let error as OneDNNError {
            throw ComputeUnavailable(compute: compute, reason: error.description)
        }
    }
}
