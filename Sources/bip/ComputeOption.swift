import ArgumentParser
import Runtime

/// The `--compute` option of the commands that run a model's forward pass.
struct ComputeOption: ParsableArguments {
    @Option(help: "The arithmetic of the projections: fp32 (exact, the default) or bf16 (weights and activations rounded to BF16, oneDNN's BF16 matmul; needs AVX-512).")
    var compute: ComputePrecision = .fp32
}

extension ComputePrecision: ExpressibleByArgument {}
