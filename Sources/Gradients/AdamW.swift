import Foundation

/// AdamW (Loshchilov & Hutter) over one flat parameter vector, with PyTorch's defaults
/// (β = 0.9, 0.999, ε = 1e-8) and decoupled weight decay.
public struct AdamW: Sendable, Equatable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    /// First and second moment estimates, one per parameter.
    public var m: [Float]
    public var v: [Float]
    /// Updates taken so far (for the bias corrections).
    public var steps: Int

    public init(parameters: Int, weightDecay: Float = 0) {
        self.weightDecay = weightDecay
        m = [Float](repeating: 0, count: parameters)
        v = m
        steps = 0
    }

    /// One update of `parameters` against `gradient` with learning rate `lr`.
    public mutating func update(_ parameters: inout [Float], gradient: [Float], lr: Float) {
        precondition(parameters.count == m.count && gradient.count == m.count)
        steps += 1
        let correction1 = 1 - Float(Foundation.pow(Double(beta1), Double(steps)))
        let correction2 = 1 - Float(Foundation.pow(Double(beta2), Double(steps)))
        let (b1, b2, eps, decay) = (beta1, beta2, epsilon, weightDecay)
        for i in parameters.indices {
            let g = gradient[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            let mHat = m[i] / correction1, vHat = v[i] / correction2
            parameters[i] -= lr * (mHat / (vHat.squareRoot() + eps) + decay * parameters[i])
        }
    }
}
